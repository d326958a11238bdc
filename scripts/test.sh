#!/usr/bin/env bash
# Runs every test suite of mailauth on a fresh machine.
#
# It first installs what the tests need (a real DNS server, DKIM peers for
# interoperability, Python tools), then runs the Rust unit, integration,
# conformance and doc tests with the default crypto backend and again with
# the pure-Rust backend, the report store against SQLite and a private
# PostgreSQL server; then the C ABI, the Python bindings and the milter end
# to end on a private Postfix.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh

export RUST_BACKTRACE=1
echo "== cargo test (default features: aws-lc backend, cli)"
cargo test --all-targets
cargo test --doc
echo "== report store (mailauth-store): SQLite, and PostgreSQL on a private server"
./scripts/pg-test-server.sh run cargo test -p mailauth-store
echo "== cargo test (pure-Rust crypto backend)"
cargo test --no-default-features --features pure-rust,stub-resolver --lib --tests
echo "== C ABI (libmailauth.so, examples/c under valgrind and sanitizers)"
./scripts/test-c.sh
echo "== Python bindings (wheel in a fresh virtualenv, pytest, stubtest)"
./scripts/test-python.sh
echo "== mailauth-milter on a private Postfix (plainly, under valgrind, with ASan/UBSan)"
./milter/tests/e2e.sh
echo "== all suites passed"
