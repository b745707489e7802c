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
# The house is one-way: no import circle between top-level modules or the files of a folder.
cargo test --locked --test module_cycles
# Dependencies: every one used, licences allowed, no banned or unknown sources (deny.toml);
# known vulnerabilities when RustSec's advisory database can be fetched (it lives on GitHub,
# which some build machines cannot reach: then said, not silently passed).
cargo machete
cargo deny --log-level error check licenses bans sources
# Where it cannot, the snapshot beside the project (../shared/reference/advisory-db) is used
# when it is there: copied into a temporary git repository, which cargo-deny wants, with the
# snapshot's own date, under the name cargo-deny gives the default database.
snapshot=../shared/reference/advisory-db
if cargo deny --log-level error fetch db >/dev/null 2>&1; then
  cargo deny --log-level error check --disable-fetch advisories
  echo "ops/test.sh: advisories checked against the live RustSec database" >&2
elif [ -f "$snapshot/SNAPSHOT.md" ]; then
  dbs=$(mktemp -d)
  trap 'rm -rf "$dbs"' EXIT
  db="$dbs/advisory-db-3157b0e258782691"
  mkdir -p "$db"
  cp -R "$snapshot"/. "$db"/
  chmod -R u+w "$db"
  commit=$(grep -o '[0-9a-f]\{40\}' "$snapshot/SNAPSHOT.md" | head -1 || true)
  day=$(grep -o 'committed [0-9-]\{10\}' "$snapshot/SNAPSHOT.md" | head -1 | cut -d' ' -f2 || true)
  day=${day:-$(date -u +%F)}
  (cd "$db" && git init -q && git add -A &&
    GIT_AUTHOR_DATE="${day}T12:00:00Z" GIT_COMMITTER_DATE="${day}T12:00:00Z" \
      git -c user.name=ops-test -c user.email=ops-test@localhost commit -qm "RustSec snapshot $commit")
  # The snapshot is older than cargo-deny's default 90 days: the date is said below instead.
  sed "s#^\[advisories\]#[advisories]\ndb-path = \"$dbs\"\nmaximum-db-staleness = \"P3650D\"#" deny.toml >"$dbs/deny.toml"
  cargo deny --log-level error check --config "$dbs/deny.toml" --disable-fetch advisories
  echo "ops/test.sh: advisories checked against the RustSec snapshot in $snapshot (commit ${commit:-?} of ${day:-?}); advisories published since were not seen" >&2
else
  echo "ops/test.sh: RustSec's advisory database cannot be fetched from here and no snapshot is beside the project; advisories NOT checked (run \`cargo deny check advisories\` where GitHub is reachable)" >&2
fi
cargo test --locked
