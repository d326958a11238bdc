#!/bin/bash
# Load benchmark: Postfix alone, Postfix with opendkim + opendmarc + policyd-spf,
# Postfix with mailauth-milter. See README.md in this folder.
#
# usage: run.sh [-n RUNS] [-c "baseline classic mailauth"] [-w WORKDIR] [-s] [-r]
#   -n RUNS      runs of each configuration (default 3)
#   -c CONFIGS   configurations to run, in this order (default: all three)
#   -w WORKDIR   working folder (default /tmp/mailauth-bench)
#   -s           set up and check one message per configuration only, no measurement
#   -r           print the table of the existing results file and exit
# environment:
#   MAILAUTH_MILTER       the mailauth-milter binary (default: ../mailauth-milter from here)
#   MAILAUTH_MILTER_ARGS  its arguments before the settings file (default: "-c")
#   BENCH_MESSAGES        messages per run (default 2000), BENCH_CONNS (20), BENCH_PER_CONN (10)
#   BENCH_QUIET_CPUS      before each run, wait until less than this many CPUs are busy
#                         (default 0.2), at most BENCH_QUIET_WAIT seconds (default 300)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
WORK=/tmp/mailauth-bench
RUNS=3
CONFIGS="baseline classic mailauth"
SMOKE=0
REPORT=0
while getopts "n:c:w:sr" o; do
    case $o in
        n) RUNS=$OPTARG ;;
        c) CONFIGS=$OPTARG ;;
        w) WORK=$OPTARG ;;
        s) SMOKE=1 ;;
        r) REPORT=1 ;;
        *) sed -n '2,19p' "$0"; exit 2 ;;
    esac
done
MESSAGES=${BENCH_MESSAGES:-2000}
CONNS=${BENCH_CONNS:-20}
PER_CONN=${BENCH_PER_CONN:-10}
QUIET_CPUS=${BENCH_QUIET_CPUS:-0.2}
QUIET_WAIT=${BENCH_QUIET_WAIT:-300}
MILTER=${MAILAUTH_MILTER:-$HERE/../mailauth-milter}
MILTER_ARGS=${MAILAUTH_MILTER_ARGS:--c}
PY=/usr/bin/python3           # Debian's python3-dkim imports under it
SMTP_PORT=2625                # Postfix smtpd
SINK_PORT=2626                # smtp-sink
DNS_PORT=5355                 # knot, also on DNS_ADDR:53 for the system resolver
DNS_ADDR=127.0.0.53
MTA_NAME=bench-mta.test
RESULTS=$WORK/results.jsonl   # one JSON line a run, kept across invocations
SESSION=$(date -u +%Y-%m-%dT%H:%M:%SZ)

if [ "$REPORT" = 1 ]; then exec $PY "$HERE/report.py" "$RESULTS"; fi
[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (Postfix, daemons under their users, a mount namespace)" >&2; exit 1; }

# opendkim (libunbound, Nameservers), opendmarc (libresolv) and policyd-spf
# (pyspf, dnspython) ask the servers of /etc/resolv.conf on port 53. The whole
# benchmark runs in a private mount namespace in which /etc/resolv.conf names
# knot on 127.0.0.53:53; the machine's own resolver configuration is untouched.
if [ -z "${BENCH_IN_NAMESPACE:-}" ]; then
    exec unshare --mount --propagation private env BENCH_IN_NAMESPACE=1 "$0" "$@"
fi

# CPUs busy over one second (all non-idle jiffies of /proc/stat)
busy_cpus() {
    local a b
    a=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9; exit}' /proc/stat); sleep 1
    b=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9; exit}' /proc/stat)
    echo "$a $b $(getconf CLK_TCK)" | awk '{printf "%.2f", ($2-$1)/$3}'
}
# wait until the machine is quiet (other work below QUIET_CPUS) for up to QUIET_WAIT seconds
wait_quiet() {
    local t=0 b
    while :; do
        b=$(busy_cpus)
        awk -v b="$b" -v q="$QUIET_CPUS" 'BEGIN{exit !(b < q)}' && return 0
        t=$((t + 1))
        [ "$t" -ge "$QUIET_WAIT" ] && { log "machine still busy ($b CPUs), running anyway"; return 0; }
        [ $((t % 30)) = 1 ] && log "waiting for a quiet machine ($b CPUs busy)"
    done
}

log() { echo "[$(date -u +%H:%M:%S)] $*"; }
die() { echo "run.sh: $*" >&2; exit 1; }

for b in postfix postconf smtp-sink knotd opendkim opendmarc; do
    command -v $b >/dev/null || [ -x /usr/sbin/$b ] || die "$b missing (apt: postfix knot opendkim opendmarc postfix-policyd-spf-python python3-dkim)"
done
[ -x /usr/bin/policyd-spf ] || die "policyd-spf missing (apt: postfix-policyd-spf-python)"
for port in $SMTP_PORT $SINK_PORT $DNS_PORT; do
    if ss -Hltn "sport = :$port" | grep -q . ; then die "port $port is in use"; fi
done
ss -Hlun "sport = :53" | grep -q "$DNS_ADDR" && die "$DNS_ADDR:53 is in use"

mkdir -p "$WORK"
chmod 755 "$WORK"
PIDS=()
cleanup() {
    set +e
    [ -f "$WORK/postfix/conf/main.cf" ] && postfix -c "$WORK/postfix/conf" stop >/dev/null 2>&1
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for f in "$WORK"/run/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
    sleep 0.5
}
trap cleanup EXIT

# ---------------------------------------------------------------- messages
if [ ! -f "$WORK/msgs/index.tsv" ] || [ "$(wc -l < "$WORK/msgs/index.tsv")" != "$MESSAGES" ]; then
    log "signing $MESSAGES messages with dkimpy (once per working folder)"
    rm -rf "$WORK/msgs" "$WORK/warm"
    $PY "$HERE/gen.py" "$WORK" "$MESSAGES"
fi
mkdir -p "$WORK/run" "$WORK/sock" "$WORK/logs"
chmod 1777 "$WORK/sock" "$WORK/run"   # the daemons write their pid files after dropping privileges
rm -f "$WORK"/run/*.pid "$WORK"/sock/*

# ---------------------------------------------------------------- DNS: knot
mkdir -p "$WORK/knot/db"
cat > "$WORK/knot/knot.conf" <<KNOT
server:
    listen: [ 127.0.0.1@$DNS_PORT, $DNS_ADDR@53 ]
    rundir: "$WORK/knot"
    pidfile: "$WORK/knot/knot.pid"
    user: root:root
log:
  - target: stderr
    any: warning
database:
    storage: "$WORK/knot/db"
template:
  - id: default
    storage: "$WORK/zones"
    file: "%s.zone"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
zone:
  - domain: example.com
  - domain: example.net
KNOT
knotd -c "$WORK/knot/knot.conf" >"$WORK/logs/knot.log" 2>&1 &
KNOT_PID=$!
PIDS+=("$KNOT_PID")
printf 'nameserver %s\noptions attempts:2 timeout:2\n' "$DNS_ADDR" > "$WORK/resolv.conf"
mount --bind "$WORK/resolv.conf" /etc/resolv.conf
for i in $(seq 50); do
    $PY - <<'PY' >/dev/null 2>&1 && break
import dns.resolver
a = dns.resolver.resolve("bench._domainkey.example.net", "TXT")
PY
    sleep 0.1
done
$PY - <<'PY' || die "knot does not answer through the resolver (see $WORK/logs/knot.log)"
import dns.resolver
for n in ("bench._domainkey.example.com", "bench._domainkey.example.net", "example.com",
          "_dmarc.example.net", "mail.example.com"):
    t = b"".join(dns.resolver.resolve(n, "TXT")[0].strings).decode()
    print("  dns:", n, t[:60] + ("..." if len(t) > 60 else ""))
PY

# ---------------------------------------------------------------- daemons' settings
setup_classic() {
    local d=$WORK/classic
    mkdir -p "$d/keys"
    for dom in example.com example.net; do
        cp "$WORK/keys/$dom.private" "$d/keys/$dom.private"
    done
    chown -R opendkim:opendkim "$d/keys"; chmod 700 "$d/keys"; chmod 600 "$d"/keys/*
    # the loopback client is not internal: only an address nobody uses is
    echo "192.0.2.1" > "$d/TrustedHosts"
    printf 'bench._domainkey.example.com example.com:bench:%s\nbench._domainkey.example.net example.net:bench:%s\n' \
        "$d/keys/example.com.private" "$d/keys/example.net.private" > "$d/KeyTable"
    printf '*@example.com bench._domainkey.example.com\n*@example.net bench._domainkey.example.net\n' > "$d/SigningTable"
    cat > "$d/opendkim.conf" <<CONF
# Debian's /etc/opendkim.conf, with the usual KeyTable/SigningTable setup
Syslog                  yes
SyslogSuccess           yes
Canonicalization        relaxed/simple
OversignHeaders         From
UserID                  opendkim
UMask                   000
Mode                    sv
Socket                  local:$WORK/sock/opendkim.sock
PidFile                 $WORK/run/opendkim.pid
KeyTable                file:$d/KeyTable
SigningTable            refile:$d/SigningTable
ExternalIgnoreList      $d/TrustedHosts
InternalHosts           $d/TrustedHosts
AuthservID              $MTA_NAME
# knot through the port-53 address; no TrustAnchorFile: the test zones are unsigned
Nameservers             $DNS_ADDR
CONF
    echo "192.0.2.1" > "$d/ignore.hosts"
    cat > "$d/opendmarc.conf" <<CONF
# Debian's /etc/opendmarc.conf plus the usual AuthservID/TrustedAuthservIDs/IgnoreHosts
PidFile                 $WORK/run/opendmarc.pid
PublicSuffixList        /usr/share/publicsuffix/public_suffix_list.dat
Socket                  local:$WORK/sock/opendmarc.sock
Syslog                  true
UMask                   0000
UserID                  opendmarc
AuthservID              $MTA_NAME
TrustedAuthservIDs      $MTA_NAME
IgnoreHosts             $d/ignore.hosts
IgnoreAuthenticatedClients true
CONF
    cat > "$d/policyd-spf.conf" <<CONF
# Debian's /etc/postfix-policyd-spf-python/policyd-spf.conf, except skip_addresses:
# the loopback client stands for an outside sender
debugLevel = 1
TestOnly = 1
HELO_reject = Fail
Mail_From_reject = Fail
PermError_reject = False
TempError_Defer = False
skip_addresses = 192.0.2.1/32
CONF
    chmod 644 "$d"/*.conf "$d/KeyTable" "$d/SigningTable" "$d/TrustedHosts" "$d/ignore.hosts"
}

setup_mailauth() {
    local d=$WORK/mailauth
    mkdir -p "$d"
    cat > "$d/mailauth.toml" <<CONF
# the same duties as opendkim (verify) + opendmarc + policyd-spf above
authserv_id = "$MTA_NAME"
internal_hosts = []

[spf]
received_spf = true

[dns]
nameservers = ["127.0.0.1:$DNS_PORT"]

[milter]
socket = "local:$WORK/sock/mailauth.sock"
socket_mode = "0666"
pid_file = "$WORK/run/mailauth-milter.pid"
syslog = true
CONF
}

# ---------------------------------------------------------------- Postfix
PF=$WORK/postfix
setup_postfix() {   # $1 = configuration
    local c=$PF/conf
    rm -rf "$c"
    mkdir -p "$c" "$PF/queue" "$PF/data"
    cp /etc/postfix/master.cf /etc/postfix/postfix-files "$c/"
    [ -d /etc/postfix/postfix-files.d ] && cp -r /etc/postfix/postfix-files.d "$c/"
    [ -f /etc/postfix/dynamicmaps.cf ] && cp -r /etc/postfix/dynamicmaps.cf* "$c/"
    cat > "$c/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $PF/queue
data_directory = $PF/data
mail_owner = postfix
setgid_group = postdrop
myhostname = $MTA_NAME
mydomain = $MTA_NAME
myorigin = \$myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
# the loopback client is not in mynetworks: the traffic is inbound
mynetworks = 192.0.2.1/32
relay_domains = bench.test
relay_transport = relay:[127.0.0.1]:$SINK_PORT
default_transport = smtp:[127.0.0.1]:$SINK_PORT
alias_maps =
alias_database =
local_recipient_maps =
biff = no
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = reject_unauth_destination
maillog_file = $PF/maillog
maillog_file_prefixes = $WORK
CONF
    postconf -c "$c" -F '*/*/chroot = n'
    postconf -c "$c" -MX smtp/inet
    postconf -c "$c" -M "$SMTP_PORT/inet = $SMTP_PORT inet n - n - - smtpd"
    case $1 in
        classic)
            postconf -c "$c" -M "policyd-spf/unix = policyd-spf unix - n n - 0 spawn user=policyd-spf argv=/usr/bin/policyd-spf $WORK/classic/policyd-spf.conf"
            postconf -c "$c" -e "policyd-spf_time_limit = 3600" \
                "smtpd_recipient_restrictions = reject_unauth_destination, check_policy_service unix:private/policyd-spf" \
                "milter_default_action = accept" "milter_protocol = 6" \
                "smtpd_milters = unix:$WORK/sock/opendkim.sock, unix:$WORK/sock/opendmarc.sock" \
                "non_smtpd_milters = \$smtpd_milters"
            ;;
        mailauth)
            postconf -c "$c" -e "milter_default_action = accept" "milter_protocol = 6" \
                "smtpd_milters = unix:$WORK/sock/mailauth.sock" "non_smtpd_milters = \$smtpd_milters"
            ;;
    esac
    postfix -c "$c" set-permissions >/dev/null 2>&1 || true
    postfix -c "$c" check || die "postfix check failed"
}

start_postfix() {
    : > "$PF/maillog"; chmod 644 "$PF/maillog"
    postfix -c "$PF/conf" start || die "postfix start failed (see $PF/maillog)"
    for i in $(seq 50); do
        [ -f "$PF/queue/pid/master.pid" ] && ss -Hltn "sport = :$SMTP_PORT" | grep -q . && break
        sleep 0.1
    done
    MASTER_PID=$(tr -d ' ' < "$PF/queue/pid/master.pid")
}

stop_postfix() {
    postfix -c "$PF/conf" stop >/dev/null 2>&1 || true
    for i in $(seq 100); do kill -0 "$MASTER_PID" 2>/dev/null || break; sleep 0.1; done
}

wait_socket() {   # $1 socket path, $2 name
    for i in $(seq 100); do [ -S "$1" ] && return 0; sleep 0.1; done
    die "$2 did not create $1 (see $WORK/logs)"
}

pid_of() { for i in $(seq 50); do [ -s "$1" ] && { tr -d ' \n' < "$1"; return 0; }; sleep 0.1; done; die "no pid file $1"; }

start_daemons() {   # $1 = configuration; sets GROUPS_ARGS
    GROUPS_ARGS=()
    case $1 in
        classic)
            rm -f "$WORK"/sock/opendkim.sock "$WORK"/sock/opendmarc.sock
            opendkim -x "$WORK/classic/opendkim.conf" >"$WORK/logs/opendkim.log" 2>&1
            opendmarc -c "$WORK/classic/opendmarc.conf" >"$WORK/logs/opendmarc.log" 2>&1
            wait_socket "$WORK/sock/opendkim.sock" opendkim
            wait_socket "$WORK/sock/opendmarc.sock" opendmarc
            GROUPS_ARGS=(--group "policyd-spf=cmd:python3 /usr/bin/policyd-spf"
                         --group "opendkim=tree:$(pid_of "$WORK/run/opendkim.pid")"
                         --group "opendmarc=tree:$(pid_of "$WORK/run/opendmarc.pid")")
            ;;
        mailauth)
            [ -x "$MILTER" ] || die "no mailauth-milter binary at $MILTER (set MAILAUTH_MILTER)"
            rm -f "$WORK/sock/mailauth.sock" "$WORK/run/mailauth-milter.pid"
            # shellcheck disable=SC2086
            "$MILTER" $MILTER_ARGS "$WORK/mailauth/mailauth.toml" >"$WORK/logs/mailauth-milter.log" 2>&1 &
            local p=$!
            wait_socket "$WORK/sock/mailauth.sock" mailauth-milter
            [ -s "$WORK/run/mailauth-milter.pid" ] && p=$(tr -d ' \n' < "$WORK/run/mailauth-milter.pid")
            echo "$p" > "$WORK/run/mailauth-milter.pid"
            GROUPS_ARGS=(--group "mailauth-milter=tree:$p")
            ;;
    esac
}

stop_daemons() {
    for f in "$WORK"/run/opendkim.pid "$WORK"/run/opendmarc.pid "$WORK"/run/mailauth-milter.pid; do
        [ -s "$f" ] || continue
        local p; p=$(tr -d ' \n' < "$f")
        kill "$p" 2>/dev/null || true
        for i in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        rm -f "$f"
    done
}

start_sink() {   # $1 dump folder
    rm -rf "$1"; mkdir -p "$1"; chown nobody "$1"
    smtp-sink -u nobody -h sink.test -d "$1/%H%M%S." 127.0.0.1:$SINK_PORT 1024 >"$WORK/logs/sink.log" 2>&1 &
    SINK_PID=$!
    for i in $(seq 50); do ss -Hltn "sport = :$SINK_PORT" | grep -q . && break; sleep 0.1; done
}

stop_sink() { kill "$SINK_PID" 2>/dev/null || true; wait "$SINK_PID" 2>/dev/null || true; }

# ---------------------------------------------------------------- runs
setup_classic
setup_mailauth
CONFIGS_OK=""
for conf in $CONFIGS; do
    if [ "$conf" = mailauth ] && [ ! -x "$MILTER" ]; then
        log "mailauth: no binary at $MILTER, configuration skipped (set MAILAUTH_MILTER)"
        continue
    fi
    CONFIGS_OK="$CONFIGS_OK $conf"
done

[ "$SMOKE" = 1 ] || log "$(uptime)"
for conf in $CONFIGS_OK; do
    setup_postfix "$conf"
    runs=$RUNS; [ "$SMOKE" = 1 ] && runs=1
    for run in $(seq "$runs"); do
        start_daemons "$conf"
        sink=$WORK/sink/$conf-$run
        start_sink "$sink"
        start_postfix
        if [ "$SMOKE" = 1 ]; then
            swaks --silent 2 --server 127.0.0.1 --port $SMTP_PORT --helo mail.example.com \
                --from sender0@example.com --to user@bench.test \
                --data "$WORK/msgs/00000.eml" || die "$conf: swaks failed (see $PF/maillog)"
            for i in $(seq 50); do [ -n "$(ls "$sink")" ] && break; sleep 0.1; done
            log "$conf: received by the sink:"
            sed -n '1,/^\r\?$/p' "$sink"/* | grep -iE -A3 '^(Authentication-Results|Received-SPF|X-)' || true
        else
            wait_quiet
            load=$(cut -d' ' -f1 /proc/loadavg)
            log "$conf run $run (load $load)"
            $PY "$HERE/measure.py" --work "$WORK" --sink-dir "$sink" --port $SMTP_PORT \
                --conns "$CONNS" --per-conn "$PER_CONN" --label "$conf" --run "$run" --session "$SESSION" \
                --out "$RESULTS" --group "postfix=tree:$MASTER_PID" "${GROUPS_ARGS[@]}" \
                --group "knot=tree:$KNOT_PID" --group "smtp-sink=tree:$SINK_PID"
        fi
        stop_postfix
        stop_sink
        stop_daemons
        rm -rf "$sink"
    done
done
[ "$SMOKE" = 1 ] || $PY "$HERE/report.py" "$RESULTS"
