#!/usr/bin/env bash
# Measures `kpr-bridge check` over the same generated persons read from an extract and from
# PostgreSQL (the example EPJ schema): wall time and peak memory, best of three runs each.
#
#   benches/check.sh [persons]        (default 100000)
#
# Needs PostgreSQL at postgres://postgres@127.0.0.1:5432 (ops/services.sh starts it).
set -euo pipefail
cd "$(dirname "$0")/.."
persons=${1:-100000}
work=$(mktemp -d)
db="kpr_bench_$$"
trap 'psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null; rm -rf "$work"' EXIT

cargo build --release --quiet
bin=target/release/kpr-bridge
$bin generate --persons "$persons" --out "$work/extract" >/dev/null
touch "$work/extract/READY"

psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db" >/dev/null
psql -h 127.0.0.1 -U postgres -d "$db" -q -f ops/examples/epj-postgres.sql >/dev/null
# The server reads the files: they must be readable by its user.
chmod -R a+rX "$work"
psql -h 127.0.0.1 -U postgres -d "$db" -q -v dir="$work/extract" \
  -f benches/load-epj-postgres.sql >/dev/null

common=$(cat <<TOML
mode = "test"
data_dir = "$work/state"
mapping = "$PWD/mappings/sample-epj.toml"
[municipality]
number = "4601"
name = "Bergen"
[her_id]
municipality = "12345"
service_unit = "67890"
TOML
)
printf '%s\n[[source]]\nname = "epj"\nkind = "extract"\npath = "%s"\n' \
  "$common" "$work/extract" > "$work/extract.toml"
{
  printf '%s\n[[source]]\nname = "epj"\nkind = "database"\nurl = "postgres://postgres@127.0.0.1:5432/%s"\n' \
    "$common" "$db"
  sed -n '/^\[source.queries\]/,/^\[test_users\]/p' ops/examples/kpr-bridge.toml | sed '$d'
} > "$work/postgres.toml"

measure() {
  local best_time="" best_rss=""
  for _ in 1 2 3; do
    /usr/bin/time -f "%e %M" -o "$work/time" $bin check --config "$1" --year 2025 >/dev/null 2>&1 || true
    read -r t rss < <(tail -n 1 "$work/time")
    if [ -z "$best_time" ] || awk "BEGIN{exit !($t < $best_time)}"; then best_time=$t; fi
    if [ -z "$best_rss" ] || [ "$rss" -gt "$best_rss" ]; then best_rss=$rss; fi
  done
  printf '%-10s %8s s  %8.1f MB peak\n' "$2" "$best_time" "$(awk "BEGIN{print $best_rss/1024}")"
}
$bin check --config "$work/extract.toml" --year 2025 --json > "$work/a.json" 2>/dev/null || true
$bin check --config "$work/postgres.toml" --year 2025 --json > "$work/b.json" 2>/dev/null || true
if ! cmp -s "$work/a.json" "$work/b.json"; then
  echo "the two origins gave different results:" >&2
  diff "$work/a.json" "$work/b.json" | head -20 >&2
  exit 1
fi
echo "check over $persons persons ($(nproc) cores), best wall time of 3, highest peak RSS:"
measure "$work/extract.toml" extract
measure "$work/postgres.toml" postgres
