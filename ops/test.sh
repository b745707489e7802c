#!/usr/bin/env bash
# Runs every test of kpr-bridge: formatting, lints, unit and integration tests.
# Used by CI (.ci/run). Starts (or installs) the servers the tests use: ops/services.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "ops/test.sh: cargo is missing; install the Rust toolchain (rustup) and run again" >&2
  exit 2
fi
for component in rustfmt clippy; do
  rustup component list --installed 2>/dev/null | grep -q "^$component" || rustup component add "$component"
done

ops/services.sh

cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked
