#!/usr/bin/env bash
# Tests the C ABI (bindings/c): the committed header is fresh, clippy is
# clean for the binding crate, and the C programs (examples/c and the
# tests/c programs: misuse, outcomes, the MTA session, ARC) build with -Werror
# through pkg-config and run clean plainly, under valgrind and under
# ASan/UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
DEBS=(gcc make pkg-config valgrind binutils knot)
missing=()
for p in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "== clippy (bindings/c)"
cargo clippy -p mailauth-capi --all-targets -- -D warnings
echo "== cargo test -p mailauth-capi (header freshness, C programs)"
cargo test -p mailauth-capi -- --nocapture
echo "== C ABI tests passed"
