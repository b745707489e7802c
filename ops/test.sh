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
# Dependencies: every one used, licences allowed, no banned or unknown sources (deny.toml);
# known vulnerabilities when RustSec's advisory database can be fetched (it lives on GitHub,
# which some build machines cannot reach: then said, not silently passed).
cargo machete
cargo deny --log-level error check licenses bans sources
if cargo deny --log-level error fetch db >/dev/null 2>&1; then
  cargo deny --log-level error check --disable-fetch advisories
else
  echo "ops/test.sh: RustSec's advisory database cannot be fetched from here; advisories NOT checked (run \`cargo deny check advisories\` where GitHub is reachable)" >&2
fi
cargo test --locked
