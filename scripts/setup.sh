#!/usr/bin/env bash
# Installs what the test suites need: Debian packages (a DNS server, the
# Perl DKIM peer) and a Python virtualenv with the Python peers.
# Idempotent: does nothing that is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# Debian packages the tests run: knotd (real authoritative DNS server on
# loopback), dig (for debugging), the Perl DKIM peer, xmllint (checks
# rendered DMARC aggregate reports against the RFC 9990 schema), PostgreSQL
# (a private server on a unix socket for the report store tests,
# scripts/pg-test-server.sh).
DEBS=(knot dnsutils libmail-dkim-perl libnet-dns-resolver-mock-perl python3-venv libxml2-utils postgresql)
missing=()
for p in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ -x scripts/setup-peers.sh ]; then
  ./scripts/setup-peers.sh
fi
