#!/usr/bin/env bash
# Builds both comparison binaries in release, signs the shared inputs, runs
# mail-auth and mailauth alternately for R rounds (so that host noise falls
# on both), then prints the medians as a markdown table.
#
#   compare/run.sh [--rounds R] [--quick] [--debug] [-- OPTIONS FOR THE BINARIES]
#
# --quick: one round of a few iterations per row; it checks that both
# libraries give the expected result everywhere and agree, no timing.
# --debug: build the dev profile instead of release (quicker to build, for
# the correctness check of --quick; its figures mean nothing).
# CARGO_TARGET_DIR is honoured (default: compare/target).
set -euo pipefail
cd "$(dirname "$0")"

rounds=15
quick=
profile=release
bin_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=--quick; rounds=1 ;;
        --rounds) rounds="$2"; shift ;;
        --debug) profile=dev ;;
        --) shift; bin_args=("$@"); break ;;
        *) echo "usage: $0 [--rounds R] [--quick] [--debug] [-- OPTIONS]" >&2; exit 2 ;;
    esac
    shift
done

# mail-auth 0.15.1 builds on this toolchain, but its mail-parser dependency
# declares a newer rust-version than the one installed here.
cargo build --profile "$profile" --locked --ignore-rust-version --quiet

target="${CARGO_TARGET_DIR:-target}"
if [ "$profile" = dev ]; then bin="$target/debug"; else bin="$target/release"; fi
inputs="$target/inputs"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

"$bin/compare-mailauth" sign-inputs "$inputs"
for ((r = 1; r <= rounds; r++)); do
    # Alternate which library goes first.
    if ((r % 2)); then order=(mail-auth mailauth); else order=(mailauth mail-auth); fi
    for library in "${order[@]}"; do
        "$bin/compare-$library" --inputs "$inputs" $quick ${bin_args[@]+"${bin_args[@]}"} \
            > "$out/$library.$r"
    done
    if [ -z "$quick" ]; then echo "round $r of $rounds done" >&2; fi
done
"$bin/compare-report" "$out" $quick
