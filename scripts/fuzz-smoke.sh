#!/usr/bin/env bash
# Builds every fuzz target and runs each for a bounded time on a scratch copy
# of its committed seed corpus (fuzz/corpus/<target>/, written by
# scripts/fuzz-corpus.py), so the committed corpus does not grow. Fails on any
# crash, panic, timeout or out-of-memory; libFuzzer leaves the input that
# triggered it in fuzz/artifacts/<target>/.
#
# FUZZ_SECONDS (default 10) is the time per target, FUZZ_RUNS (default
# 2000000) caps the number of inputs per target.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-10}"
runs="${FUZZ_RUNS:-2000000}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

# Stable Rust: no sanitizer (-s none), which needs nightly; the targets are
# built optimized with debug assertions and overflow checks.
cargo fuzz build -s none
bin="fuzz/target/$(rustc -vV | sed -n 's/^host: //p')/release"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

for target in $(cargo fuzz list); do
    seeds="fuzz/corpus/$target"
    if [ ! -d "$seeds" ] || [ -z "$(ls -A "$seeds")" ]; then
        echo "fuzz target $target has no seed corpus in $seeds" >&2
        exit 1
    fi
    mkdir -p "$scratch/$target"
    cp "$seeds"/* "$scratch/$target/"
    log="$scratch/$target.log"
    echo "== fuzz $target (${seconds}s, $(ls "$seeds" | wc -l) seeds)"
    mkdir -p "fuzz/artifacts/$target"
    if ! "$bin/$target" "$scratch/$target" -artifact_prefix="fuzz/artifacts/$target/" \
        -max_total_time="$seconds" -runs="$runs" -timeout=10 -rss_limit_mb=2048 \
        >"$log" 2>&1; then
        tail -n 60 "$log" >&2
        echo "fuzz target $target failed; the input is in fuzz/artifacts/$target/" >&2
        exit 1
    fi
    grep -E '^Done [0-9]+ runs' "$log" || true
done
echo "== all fuzz targets ran without a crash"
