#!/usr/bin/env bash
# Installs the implementations the interoperability tests check mailauth against:
#   - Perl Mail::DKIM (Debian libmail-dkim-perl), with Net::DNS::Resolver::Mock for offline keys
#   - dkimpy (PyPI) with pynacl (ed25519) and dnspython, in a venv at target/peers-venv
#     (tests/dkim_interop.rs)
#   - pyspf (PyPI), the SPF library under policyd-spf, in the same venv (tests/spf_pyspf.rs)
#   - authres (PyPI), which dkimpy's ARC signing needs (tests/arc_interop.rs)
# Idempotent: safe to run again. Needs root for apt-get (or sudo).
set -euo pipefail

cd "$(dirname "$0")/.."
VENV="${MAILAUTH_PEERS_VENV:-target/peers-venv}"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

need_apt=0
for pkg in libmail-dkim-perl libnet-dns-resolver-mock-perl python3-venv; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_apt=1
done
if [ "$need_apt" -eq 1 ]; then
    $SUDO apt-get update
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends \
        libmail-dkim-perl libnet-dns-resolver-mock-perl python3-venv
fi

if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import dkim, nacl, dns, spf, authres' 2>/dev/null; then
    "$VENV/bin/python" -m pip install --quiet dkimpy pynacl dnspython pyspf authres
fi

perl -MMail::DKIM -MNet::DNS::Resolver::Mock -e 'print "Mail::DKIM $Mail::DKIM::VERSION\n"'
"$VENV/bin/python" -c 'import importlib.metadata as m; print("dkimpy", m.version("dkimpy"), "pynacl", m.version("pynacl"), "dnspython", m.version("dnspython"), "pyspf", m.version("pyspf"))'
