#!/usr/bin/env bash
# Builds the Python package `mailauth` (bindings/python) into an abi3 wheel
# with maturin, installs it into a fresh virtualenv, and runs:
#   - clippy on the binding crate (the workspace root's commands cover only
#     the core crate),
#   - pytest on bindings/python/tests with warnings as errors,
#   - mypy's stubtest (the .pyi stubs match the built module) and mypy --strict
#     on the package.
# The virtualenv is made anew under target/ on every run; the tools and the
# interoperability peers (dkimpy, pynacl, dnspython) come from PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="target/python-test-venv"
WHEELS="target/python-wheels"

echo "== cargo clippy -p mailauth-python"
cargo clippy -p mailauth-python --all-targets -- -D warnings

echo "== fresh virtualenv in $VENV"
rm -rf "$VENV" "$WHEELS"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet "maturin>=1.16,<2" pytest mypy dkimpy pynacl dnspython

echo "== maturin build (release, abi3 wheel)"
"$VENV/bin/maturin" build --release --manifest-path bindings/python/Cargo.toml \
    --interpreter "$VENV/bin/python" --out "$WHEELS"
"$VENV/bin/python" -m pip install --quiet --force-reinstall --no-deps "$WHEELS"/mailauth-*.whl

# Run from outside the source tree so that the installed wheel is tested,
# not bindings/python/python.
cd target
echo "== pytest (warnings are errors)"
"../$VENV/bin/python" -m pytest -W error -q -p no:cacheprovider ../bindings/python/tests
echo "== stubs match the module (mypy.stubtest)"
"../$VENV/bin/python" -m mypy.stubtest mailauth
echo "== mypy --strict on the package"
"../$VENV/bin/python" -m mypy --strict --no-incremental --cache-dir=/dev/null -p mailauth
echo "== python bindings: all checks passed"
