#!/usr/bin/env bash
# End-to-end test of mailauth-milter on a private Postfix instance.
#
# knot serves the DNS (127.0.0.1:5354): two domains this relay signs for
# (example.com, example.net), an outside sender (sender.example, signed by
# dkimpy), a -all domain; a private Postfix (postfix -c DIR) listens on
# 127.0.0.1:2525 (inbound) and 127.0.0.1:2587 (submission, daemon name
# ORIGINATING), runs the milter over a unix socket and relays everything to
# smtp-sink, which writes each message to a file the test reads. swaks
# sends; XCLIENT gives the milter outside client addresses.
#
#   milter/tests/e2e.sh [plain|valgrind|sanitize]...   (default: all three)
#
# Installs what it needs (Debian packages) and builds libmailauth and the
# milter itself. Run as root (Postfix and the privilege drop need it).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
MODES=("$@")
[ ${#MODES[@]} -eq 0 ] && MODES=(plain valgrind sanitize)

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
DEBS=(postfix swaks libmilter-dev knot python3-dkim python3-authres valgrind gcc make pkg-config)
missing=()
for p in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing Debian packages: ${missing[*]}"
  echo "postfix postfix/main_mailer_type select Local only" | $SUDO debconf-set-selections
  echo "postfix postfix/mailname string localhost" | $SUDO debconf-set-selections
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The package may have started the system's Postfix; this test does not use it.
postfix stop >/dev/null 2>&1 || true

# Debian's python3-dkim imports under the system Python.
PY=/usr/bin/python3
W=$(mktemp -d /tmp/mailauth-e2e.XXXXXX)
chmod 755 "$W"
PREFIX=$W/prefix
DNS_PORT=5354
SMTP=127.0.0.1:2525
SUBMISSION=127.0.0.1:2587
SINK=127.0.0.1:2526
PIDS=()
cleanup() {
  [ -f "$W/postfix/conf/main.cf" ] && postfix -c "$W/postfix/conf" stop >/dev/null 2>&1 || true
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$W/milter.pid" ] && kill "$(cat "$W/milter.pid")" 2>/dev/null || true
  sleep 0.5
  if [ "${KEEP:-}" = "" ]; then rm -rf "$W"; else echo "kept $W"; fi
}
trap cleanup EXIT

echo "== building libmailauth and mailauth-milter"
cargo build --release -p mailauth-capi --quiet
cargo build --release --bin mailauth --quiet
cargo build --release -p mailauth-store --bin mailauth-report --quiet
make -C bindings/c install PREFIX="$PREFIX" >/dev/null
export PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig
export LD_LIBRARY_PATH=$PREFIX/lib
mkdir -p "$W/build/plain" "$W/build/sanitize"
make -s -C milter clean >/dev/null
make -s -C milter
mv milter/mailauth-milter "$W/build/plain/"
make -s -C milter SANITIZE=1
mv milter/mailauth-milter "$W/build/sanitize/"
# Installing beside the library works as documented.
make -s -C milter install PREFIX="$PREFIX" DESTDIR="$W/destdir" >/dev/null 2>&1 || { echo "make install failed"; exit 1; }
make -s -C milter clean >/dev/null
test -x "$W/destdir/$PREFIX/sbin/mailauth-milter"

MAILAUTH=$ROOT/target/release/mailauth
mkdir -p "$W/keys/example.com" "$W/keys/example.net" "$W/keys/sender.example" "$W/zones" "$W/knot/db" "$W/sink" "$W/msgs"

echo "== keys and zones"
"$MAILAUTH" genkey -d example.com -s s1 -D "$W/keys/example.com" >/dev/null
"$MAILAUTH" genkey -d example.net -s s2 -D "$W/keys/example.net" >/dev/null
"$MAILAUTH" genkey -d sender.example -s ext -D "$W/keys/sender.example" >/dev/null
"$MAILAUTH" genkey -d sender.example -s fresh -D "$W/keys/sender.example" >/dev/null
chown -R postfix "$W/keys"
zone() { # domain, extra records
  {
    echo "\$ORIGIN $1."
    echo "\$TTL 300"
    echo "@ SOA ns.$1. hostmaster.$1. 1 3600 600 86400 300"
    echo "@ NS ns.$1."
    echo "ns A 127.0.0.1"
    printf '%s\n' "${@:2}"
  } > "$W/zones/$1.zone"
}
zone example.com '@ TXT "v=spf1 ip4:10.9.0.0/16 -all"' \
  '_dmarc TXT "v=DMARC1; p=reject; rua=mailto:dmarc@example.com"' \
  "$(cat "$W/keys/example.com/s1.txt")"
zone example.net '@ TXT "v=spf1 ip4:10.9.0.0/16 -all"' '_dmarc TXT "v=DMARC1; p=reject"' \
  "$(cat "$W/keys/example.net/s2.txt")"
zone sender.example '@ TXT "v=spf1 ip4:198.51.100.0/24 -all"' 'mail A 198.51.100.7' \
  'mail TXT "v=spf1 a -all"' '_dmarc TXT "v=DMARC1; p=reject; rua=mailto:dmarc@sender.example"' \
  "$(cat "$W/keys/sender.example/ext.txt")" "$(cat "$W/keys/sender.example/fresh.txt")"
zone hard.example '@ TXT "v=spf1 -all"'
# The top-level zones, so that a DMARC tree walk up to them is answered
# (NXDOMAIN) as a recursive resolver would, not refused.
zone com
zone net
zone example
zone test
cat > "$W/knot/knot.conf" <<KNOT
server:
    listen: 127.0.0.1@$DNS_PORT
    rundir: "$W/knot"
    user: root:root
log:
  - target: stderr
    any: warning
database:
    storage: "$W/knot/db"
template:
  - id: default
    storage: "$W/zones"
    file: "%s.zone"
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: com
  - domain: net
  - domain: example
  - domain: test
  - domain: example.com
  - domain: example.net
  - domain: sender.example
  - domain: hard.example
KNOT
start_knot() {
  knotd -c "$W/knot/knot.conf" >>"$W/knot.log" 2>&1 &
  KNOT_PID=$!
  PIDS+=("$KNOT_PID")
  for _ in $(seq 50); do
    "$PY" - "$DNS_PORT" <<'PY' >/dev/null 2>&1 && return 0
import socket, sys
q = bytes.fromhex("12340100000100000000000006") + b"sender\x07example\x00\x00\x10\x00\x01"
q = bytes.fromhex("123401000001000000000000") + b"\x06sender\x07example\x00\x00\x10\x00\x01"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.2)
s.sendto(q, ("127.0.0.1", int(sys.argv[1]))); r = s.recv(4096)
sys.exit(0 if r[3] & 15 == 0 else 1)
PY
    sleep 0.1
  done
  echo "knot did not start (see $W/knot.log)"; exit 1
}
stop_knot() { kill "$KNOT_PID"; wait "$KNOT_PID" 2>/dev/null || true; }
start_knot

echo "== settings (OpenDKIM-style key and signing tables)"
cat > "$W/KeyTable" <<EOF
s1._domainkey.example.com example.com:s1:$W/keys/example.com/s1.private
s2._domainkey.example.net example.net:s2:$W/keys/example.net/s2.private
EOF
cat > "$W/SigningTable" <<'EOF'
*@example.com s1._domainkey.example.com
*@example.net s2._domainkey.example.net
EOF
settings() { # test_only
  cat > "$W/mailauth.toml" <<EOF
authserv_id = "mx.test.example"
internal_hosts = ["10.9.0.0/16"]
daemon_names = ["ORIGINATING"]
test_only = $1

[signing]
key_table = "$W/KeyTable"
signing_table = "refile:$W/SigningTable"

[spf]
mail_from_reject = "fail"

[dmarc]
reject_failures = true

[arc]
verify = true
seal = true
sealer = "example.com"

[replies]
dmarc_reject = "550 5.7.26 Unauthenticated mail from {domain} refused by its DMARC policy"

[dns]
nameservers = ["127.0.0.1:$DNS_PORT"]
timeout_ms = 500
attempts = 1

[log]
why = true

[milter]
socket = "local:$W/milter.sock"
socket_mode = "0660"
socket_group = "postfix"
user = "postfix"
pid_file = "$W/milter.pid"
syslog = false
stderr = true

[report]
record = true
path = "$W/store/reports.sqlite"
org_name = "mx.test.example"
email = "dmarc-reports@test.example"
flush_interval_ms = 100
EOF
}
# The milter writes the report store as the user it drops to.
mkdir -p "$W/store"
chown postfix "$W/store"
settings false

echo "== Postfix on $SMTP and $SUBMISSION, smtp-sink on $SINK"
PF=$W/postfix
mkdir -p "$PF/conf" "$PF/queue" "$PF/data"
cp /etc/postfix/master.cf /etc/postfix/postfix-files "$PF/conf/"
[ -d /etc/postfix/postfix-files.d ] && cp -r /etc/postfix/postfix-files.d "$PF/conf/"
[ -f /etc/postfix/dynamicmaps.cf ] && cp -r /etc/postfix/dynamicmaps.cf* "$PF/conf/"
cat > "$PF/conf/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $PF/queue
data_directory = $PF/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.test.example
mydomain = test.example
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relay_domains = dest.example
relay_transport = relay:[127.0.0.1]:2526
default_transport = smtp:[127.0.0.1]:2526
alias_maps =
alias_database =
local_recipient_maps =
biff = no
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_authorized_xclient_hosts = 127.0.0.0/8
message_size_limit = 60000000
smtpd_milters = unix:$W/milter.sock
milter_default_action = tempfail
milter_protocol = 6
maillog_file = $PF/maillog
maillog_file_prefixes = $W
EOF
postconf -c "$PF/conf" -F '*/*/chroot = n'
postconf -c "$PF/conf" -MX smtp/inet
postconf -c "$PF/conf" -M "$SMTP/inet = $SMTP inet n - n - - smtpd"
postconf -c "$PF/conf" -M "$SUBMISSION/inet = $SUBMISSION inet n - n - - smtpd -o milter_macro_daemon_name=ORIGINATING"
postfix -c "$PF/conf" set-permissions >/dev/null 2>&1 || true
postfix -c "$PF/conf" check
chown postfix "$W/sink"
smtp-sink -u postfix -d "$W/sink/%H%M%S." "$SINK" 100 >"$W/sink.log" 2>&1 &
PIDS+=("$!")
: > "$PF/maillog"
postfix -c "$PF/conf" start
for _ in $(seq 50); do
  ss -Hltn "sport = :2525" | grep -q . && break
  sleep 0.1
done

echo "== messages (dkimpy signs the outside sender's)"
msg() { # file, header lines (\n-separated), body
  printf '%b' "$2" > "$W/msgs/$1"
  printf 'To: bob@dest.example\r\nSubject: %s\r\nDate: Fri, 04 Dec 2026 10:00:00 +0000\r\nMessage-ID: <%s@test>\r\n\r\n%s\r\n' "$1" "$1" "$3" >> "$W/msgs/$1"
}
dkimpy_sign() { # file, domain, selector, key
  "$PY" - "$W/msgs/$1" "$2" "$3" "$4" <<'PY'
import sys, dkim
path, domain, selector, key = sys.argv[1:]
message = open(path, "rb").read()
sig = dkim.sign(message, selector.encode(), domain.encode(), open(key, "rb").read(),
                include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
open(path, "wb").write(sig + message)
PY
}
msg a.eml 'From: Alice <alice@sender.example>\r\n' 'Hello from outside.'
dkimpy_sign a.eml sender.example ext "$W/keys/sender.example/ext.private"
msg b.eml 'From: The CEO <ceo@example.com>\r\n' 'Please wire the money.'
msg e.eml 'Authentication-Results: mx.test.example; dkim=pass header.d=forged.example\r\nFrom: Alice <alice@sender.example>\r\n' 'A forged field above.'
dkimpy_sign e.eml sender.example ext "$W/keys/sender.example/ext.private"
msg f.eml 'From: Alice <alice@sender.example>\r\n' 'Signed with a key not looked up before.'
dkimpy_sign f.eml sender.example fresh "$W/keys/sender.example/fresh.private"
msg d1.eml 'From: Alice <alice@example.com>\r\n' 'Outbound from example.com.'
msg d2.eml 'From: Bob <bob@example.net>\r\n' 'Outbound from example.net.'

FAILURES=0
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; FAILURES=$((FAILURES + 1)); }

# Sends a message; prints swaks' transcript; its status is swaks'.
send() { # server, xclient address (or -), mail from, file
  local x=()
  # The loopback client says a neutral HELO; XCLIENT then gives the
  # outside client's address and HELO name.
  [ "$2" != "-" ] && x=(--xclient-addr "$2" --xclient-name unknown --xclient-helo mail.sender.example)
  swaks --server "$1" "${x[@]}" --helo client.test --from "$3" --to bob@dest.example \
    --data "@$4" --timeout 60 2>&1
}
# The file smtp-sink wrote for the message with this Subject ("" if none).
delivered() {
  local f
  for _ in $(seq 100); do
    f=$(grep -l -a "^Subject: $1" "$W"/sink/* 2>/dev/null | head -n 1 || true)
    [ -n "$f" ] && { echo "$f"; return 0; }
    sleep 0.1
  done
  echo ""
}

start_milter() { # mode
  rm -f "$W/milter.sock" "$W/milter.pid"
  case $1 in
    plain) "$W/build/plain/mailauth-milter" -c "$W/mailauth.toml" -f 2>>"$W/milter.log" & ;;
    sanitize)
      ASAN_OPTIONS=detect_leaks=1:exitcode=23 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        "$W/build/sanitize/mailauth-milter" -c "$W/mailauth.toml" -f 2>>"$W/milter.log" & ;;
    valgrind)
      valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=23 \
        --log-file="$W/valgrind.%p.log" "$W/build/plain/mailauth-milter" -c "$W/mailauth.toml" -f \
        2>>"$W/milter.log" & ;;
  esac
  MILTER_PID=$!
  for _ in $(seq 300); do [ -S "$W/milter.sock" ] && break; sleep 0.1; done
  [ -S "$W/milter.sock" ] || { echo "milter did not start:"; cat "$W/milter.log"; exit 1; }
}
stop_milter() { # sets MILTER_STATUS
  kill -TERM "$MILTER_PID"
  MILTER_STATUS=0
  wait "$MILTER_PID" || MILTER_STATUS=$?
}
milter_child() { pgrep -P "$MILTER_PID" | head -n 1; }
# The milter process's memory (kB): VmRSS or VmHWM.
memory() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

for MODE in "${MODES[@]}"; do
  echo "== mode: $MODE"
  rm -f "$W"/sink/* "$W/milter.log" "$W"/valgrind.*.log "$W"/store/reports.sqlite*
  settings false
  start_milter "$MODE"
  # Under valgrind and the sanitizers everything is slower.
  if [ "$MODE" != plain ]; then sleep 2; fi

  # (a) outside mail signed by dkimpy: one AR with spf, dkim and dmarc pass.
  out=$(send "$SMTP" 198.51.100.7 alice@sender.example "$W/msgs/a.eml") || true
  f=$(delivered a.eml)
  if [ -n "$f" ]; then
    ar=$("$PY" - "$f" <<'PY'
import sys, email
m = email.message_from_binary_file(open(sys.argv[1], "rb"))
ars = [v for v in (m.get_all("Authentication-Results") or []) if v.strip().startswith("mx.test.example")]
print(len(ars)); print(" ".join(" ".join(ars).split()))
PY
)
    n=$(echo "$ar" | head -n 1); text=$(echo "$ar" | tail -n 1)
    if [ "$n" = 1 ] && [[ $text == *spf=pass* ]] && [[ $text == *dkim=pass* ]] && [[ $text == *dmarc=pass* ]]; then
      pass "(a) inbound: $text"
    else
      fail "(a) inbound: $n field(s): $text"
    fi
    # The milter sealed what it accepted; dkimpy validates the chain.
    arc=$("$PY" - "$f" "$W/keys/example.com/s1.txt" <<'PY'
import re, sys, dkim
raw = open(sys.argv[1], "rb").read()
start = raw.find(b"ARC-Seal:")
message = raw[max(start, 0):].replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
record = "".join(re.findall(r'"([^"]*)"', open(sys.argv[2]).read())).encode()
def dns(name, timeout=5):
    return record if name.decode().lower().rstrip(".") == "s1._domainkey.example.com" else None
cv, results, reason = dkim.arc_verify(message, dnsfunc=dns)
print(cv.decode(), len(results), reason)
PY
)
    if [[ $arc == "pass 1 "* ]]; then
      pass "(a) sealed (ARC i=1 by example.com), dkimpy validates: $arc"
    else
      fail "(a) ARC seal: $arc"
    fi
  else
    fail "(a) inbound not delivered: $out"
  fi

  # (b) a spoofed From under p=reject: refused at end of data.
  out=$(send "$SMTP" 198.51.100.7 mallory@sender.example "$W/msgs/b.eml") || true
  if echo "$out" | grep -q "550 5.7.26 Unauthenticated mail from example.com refused by its DMARC policy" &&
     [ -z "$(delivered b.eml | head -c 1)" ]; then
    pass "(b) spoof refused with the configured text"
  else
    fail "(b) spoof: $(echo "$out" | grep -E '^ *<\*\*' | tail -n 3)"
  fi

  # (c) SPF -all: refused at MAIL FROM.
  out=$(send "$SMTP" 198.51.100.7 x@hard.example "$W/msgs/b.eml") || true
  if echo "$out" | grep -E "<\*\* +550 5.7.23" | grep -q . && echo "$out" | grep -q "MAIL FROM"; then
    mline=$(echo "$out" | grep -A1 -- "-> MAIL FROM" | tail -n 1)
    if [[ $mline == *550\ 5.7.23* ]]; then pass "(c) SPF fail refused at MAIL FROM: $mline"
    else fail "(c) refused, but not at MAIL FROM: $mline"; fi
  else
    fail "(c) SPF -all: $(echo "$out" | grep -E '^ *<' | tail -n 3)"
  fi

  # (d) submission (ORIGINATING) for each domain: signed with its key.
  for d in d1:example.com:s1 d2:example.net:s2; do
    IFS=: read -r name domain selector <<<"$d"
    from=$([ "$domain" = example.com ] && echo alice@example.com || echo bob@example.net)
    out=$(send "$SUBMISSION" - "$from" "$W/msgs/$name.eml") || true
    f=$(delivered "$name.eml")
    if [ -z "$f" ]; then fail "(d) $domain not delivered: $(echo "$out" | tail -n 3)"; continue; fi
    verdict=$("$PY" - "$f" "$W/keys/$domain/$selector.txt" "$selector._domainkey.$domain." <<'PY'
import re, sys, dkim
raw = open(sys.argv[1], "rb").read()
# smtp-sink writes its own envelope lines before the message.
start = raw.find(b"DKIM-Signature:")
message = raw[start:].replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
record = "".join(re.findall(r'"([^"]*)"', open(sys.argv[2]).read())).encode()
def dns(name, timeout=5):
    return record if name.decode().lower() == sys.argv[3].lower() else None
d = dkim.DKIM(message)
ok = d.verify(dnsfunc=dns)
sig = message.split(b"\r\n\r\n")[0]
print("verified" if ok else "not-verified", b"d=" + d.domain if d.domain else b"")
PY
)
    if [[ $verdict == "verified b'd=$domain'"* ]] || [[ $verdict == verified*d=$domain* ]]; then
      pass "(d) $domain signed, dkimpy verifies: $verdict"
    else
      fail "(d) $domain: $verdict"
    fi
  done

  # (e) a forged AR in our name is removed.
  send "$SMTP" 198.51.100.7 alice@sender.example "$W/msgs/e.eml" >/dev/null || true
  f=$(delivered e.eml)
  if [ -n "$f" ] && ! grep -a -q "forged.example" "$f" &&
     [ "$(grep -a -c '^Authentication-Results: mx.test.example' "$f")" = 1 ]; then
    pass "(e) forged Authentication-Results removed"
  else
    fail "(e) forged field: ${f:-not delivered}"
  fi

  # (f) DNS down: tempfailed, not accepted; DNS back: delivered.
  stop_knot
  out=$(send "$SMTP" 198.51.100.7 alice@sender.example "$W/msgs/f.eml") || true
  if echo "$out" | grep -E "<\*\* +4[0-9][0-9] " | grep -q . && [ -z "$(delivered f.eml | head -c 1)" ]; then
    pass "(f) DNS down: $(echo "$out" | grep -E '<\*\* +4' | tail -n 1 | sed 's/^ *//')"
  else
    fail "(f) DNS down: $(echo "$out" | grep -E '^ *<' | tail -n 2)"
  fi
  start_knot
  send "$SMTP" 198.51.100.7 alice@sender.example "$W/msgs/f.eml" >/dev/null || true
  if [ -n "$(delivered f.eml)" ]; then pass "(f) DNS back: delivered"; else fail "(f) DNS back: not delivered"; fi

  # (b') test-only, loaded by SIGHUP: the spoof is delivered and logged.
  settings true
  kill -HUP "$MILTER_PID"
  for _ in $(seq 100); do grep -q "settings reloaded" "$W/milter.log" && break; sleep 0.1; done
  send "$SMTP" 198.51.100.7 mallory@sender.example "$W/msgs/b.eml" >/dev/null || true
  if [ -n "$(delivered b.eml)" ] && grep -q "test-only-would=\"reject 550 5.7.26" "$W/milter.log"; then
    pass "(b) test-only (after SIGHUP): delivered and logged"
  else
    fail "(b) test-only: $(tail -n 3 "$W/milter.log")"
  fi
  # A bad settings file on SIGHUP keeps the old settings.
  echo "bogus = 1" >> "$W/mailauth.toml"
  kill -HUP "$MILTER_PID"
  for _ in $(seq 100); do grep -q "reload of .* failed" "$W/milter.log" && break; sleep 0.1; done
  if grep -q "reload of .* failed, keeping the settings in use: .*mailauth.toml:[0-9]*: unknown field" "$W/milter.log"; then
    pass "bad settings on SIGHUP: kept the old ones, logged why"
  else
    fail "bad settings on SIGHUP: $(tail -n 2 "$W/milter.log")"
  fi
  settings false

  # (g) 50 MB: the milter's memory does not follow the message size.
  if [ "$MODE" = plain ]; then
    "$PY" - "$W/msgs/g.eml" <<'PY'
import sys
line = b"The quick brown fox jumps over the lazy dog 0123456789 abcdefghijklmnop\r\n"
with open(sys.argv[1], "wb") as f:
    f.write(b"From: Alice <alice@sender.example>\r\nTo: bob@dest.example\r\nSubject: g.eml\r\n\r\n")
    for _ in range(50 * 1024 * 1024 // len(line) + 1):
        f.write(line)
PY
    child=$(milter_child)
    before=$(memory "$child" VmRSS)
    send "$SMTP" 198.51.100.7 alice@sender.example "$W/msgs/g.eml" >/dev/null || true
    peak=$(memory "$child" VmHWM)
    f=$(delivered g.eml)
    growth=$((peak - before))
    if [ -n "$f" ] && [ "$growth" -lt 5120 ]; then
      pass "(g) 50 MB message delivered; milter RSS $before kB, peak $peak kB (+$growth kB)"
    else
      fail "(g) 50 MB: delivered=${f:+yes} RSS $before kB, peak $peak kB"
    fi
    rm -f "$W/msgs/g.eml"
  fi

  stop_milter
  status=$MILTER_STATUS
  if [ "$status" = 0 ]; then
    pass "milter stopped cleanly on SIGTERM ($MODE)"
  else
    fail "milter exit status $status ($MODE)"
    cat "$W"/valgrind.*.log 2>/dev/null | head -n 40 || true
    grep -A20 -E "ERROR: (Address|Leak)Sanitizer|runtime error" "$W/milter.log" | head -n 40 || true
  fi
  grep -q "mailauth-milter: NOQUEUE\|mailauth-milter: [0-9A-F]*: client=" "$W/milter.log" ||
    fail "no log line in $W/milter.log"

  # A SIGHUP sent while the milter starts (a reload racing a start: it
  # loads its settings, forks, binds) neither ends it nor is lost: it
  # becomes a reload. The signal is sent as soon as main has blocked it
  # (SigBlk in /proc) or the supervisor waits for it (sigwaitinfo, which
  # unblocks what it waits for): before that no program can keep it from
  # ending it.
  if [ "$MODE" != valgrind ]; then
    rm -f "$W/milter.sock"
    : > "$W/milter.log"
    "$W/build/$MODE/mailauth-milter" -c "$W/mailauth.toml" -f 2>>"$W/milter.log" &
    MILTER_PID=$!
    blocked=""
    for _ in $(seq 200000); do
      blk=""
      while read -r k v; do [ "$k" = SigBlk: ] && blk=$v; done <"/proc/$MILTER_PID/status" 2>/dev/null || true
      if [ -n "$blk" ] && (( 16#$blk & 1 )); then blocked=yes; break; fi
      wchan=""
      read -r wchan <"/proc/$MILTER_PID/wchan" 2>/dev/null || true
      if [[ $wchan == do_sigtimedwait* ]]; then blocked=yes; break; fi
    done
    [ -n "$blocked" ] || fail "SIGHUP at start ($MODE): the milter never blocked SIGHUP nor waited for it while starting"
    kill -HUP "$MILTER_PID" 2>/dev/null || true
    for _ in $(seq 100); do
      [ -S "$W/milter.sock" ] && grep -q "settings reloaded" "$W/milter.log" && break
      sleep 0.1
    done
    if kill -0 "$MILTER_PID" 2>/dev/null && [ -S "$W/milter.sock" ] &&
       grep -q "settings reloaded" "$W/milter.log"; then
      stop_milter
      if [ "$MILTER_STATUS" = 0 ]; then pass "SIGHUP at start: the milter runs and reloads ($MODE)"
      else fail "SIGHUP at start: exit status $MILTER_STATUS after SIGTERM ($MODE)"; fi
    else
      fail "SIGHUP at start ($MODE): $(tail -n 3 "$W/milter.log")"
      kill "$MILTER_PID" 2>/dev/null || true
      wait "$MILTER_PID" 2>/dev/null || true
    fi
  fi

  # (h) DMARC aggregate reports of this mode's traffic, from the store the
  # milter recorded every verdict in: `mailauth report send --dir` writes
  # one report e-mail per policy domain once the period has ended (--now two
  # days on). Checked: sender.example's (a, e, f and, in plain mode, g
  # passed DMARC from 198.51.100.7) and example.com's (the spoof b, refused
  # and then, in test-only mode, delivered: both fail DMARC).
  rm -rf "$W/reports" "$W/reports2"
  later=$(( $(date +%s) + 2 * 86400 ))
  if out=$("$MAILAUTH" report send --settings "$W/mailauth.toml" --dir "$W/reports" --now "$later" 2>&1); then
    expect_sender=3
    [ "$MODE" = plain ] && expect_sender=4
    if verdict=$("$PY" - "$W/reports" "$expect_sender" <<'PY'
import email, glob, gzip, io, sys, zipfile
import xml.etree.ElementTree as ET
folder, expect_sender = sys.argv[1], int(sys.argv[2])
reports = {}
for path in sorted(glob.glob(folder + "/*.eml")):
    message = email.message_from_binary_file(open(path, "rb"))
    for part in message.walk():
        data = part.get_payload(decode=True)
        if not data or part.get_content_maintype() == "text":
            continue
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        elif data[:2] == b"PK":
            z = zipfile.ZipFile(io.BytesIO(data))
            data = z.read(z.namelist()[0])
        root = ET.fromstring(data)
        # RFC 9990 reports are in the urn:ietf:params:xml:ns:dmarc-2.0
        # namespace: read the element names without it.
        for element in root.iter():
            element.tag = element.tag.rsplit("}", 1)[-1]
        reports[root.findtext("policy_published/domain")] = (message, root)
problems = []
if sorted(reports) != ["example.com", "sender.example"]:
    problems.append(f"reports for {sorted(reports)}")
def rows(root):
    for record in root.findall("record"):
        yield (record.findtext("row/source_ip"), int(record.findtext("row/count")),
               record.findtext("row/policy_evaluated/disposition"),
               record.findtext("row/policy_evaluated/dkim"),
               record.findtext("row/policy_evaluated/spf"),
               record.findtext("identifiers/header_from"))
if "sender.example" in reports:
    message, root = reports["sender.example"]
    got = list(rows(root))
    total = sum(r[1] for r in got)
    # The message sent while DNS was down may or may not have a verdict.
    if not expect_sender <= total <= expect_sender + 1:
        problems.append(f"sender.example: {total} messages, expected {expect_sender}: {got}")
    if any(r[0] != "198.51.100.7" or r[5] != "sender.example" for r in got):
        problems.append(f"sender.example rows: {got}")
    if "dmarc@sender.example" not in message.get("To", ""):
        problems.append(f"sender.example To: {message.get('To')}")
    if root.findtext("report_metadata/org_name") != "mx.test.example":
        problems.append("org_name: " + str(root.findtext("report_metadata/org_name")))
if "example.com" in reports:
    message, root = reports["example.com"]
    got = list(rows(root))
    total = sum(r[1] for r in got)
    if total != 2 or any(r[3] != "fail" or r[4] != "fail" or r[5] != "example.com" for r in got):
        problems.append(f"example.com: {total} messages: {got}")
print("; ".join(problems) if problems else f"reports for {', '.join(sorted(reports))}")
sys.exit(1 if problems else 0)
PY
); then
      pass "(h) aggregate reports from the store ($MODE): $verdict"
    else
      fail "(h) aggregate reports ($MODE): $verdict"
    fi
    # Reported once: a second run finds nothing due.
    again=$("$MAILAUTH" report send --settings "$W/mailauth.toml" --dir "$W/reports2" --now "$later" 2>&1) || true
    if [ ! -d "$W/reports2" ] || [ -z "$(ls -A "$W/reports2")" ]; then
      pass "(h) a reported period is not reported again ($MODE)"
    else
      fail "(h) reported twice ($MODE): $again"
    fi
  else
    fail "(h) mailauth report send ($MODE): $out"
  fi
done

echo "== log lines of the last run:"
grep -E "client=" "$W/milter.log" | head -n 6 || true
if [ "$FAILURES" -ne 0 ]; then
  echo "== mailauth-milter end-to-end: $FAILURES failure(s)"
  exit 1
fi
echo "== mailauth-milter end-to-end: all cases passed (${MODES[*]})"
