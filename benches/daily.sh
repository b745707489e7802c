#!/usr/bin/env bash
# Measures the daily capture at scale (examples/daily_diff.rs): an initial capture records a
# baseline of N services (setup), then a capture finds 1 % of them changed (measure). Three
# measure runs on SQLite and three on PostgreSQL, each from the same baseline: a measure
# commits what it finds, so each run gets a fresh copy of the baseline (a copy of the SQLite
# directory; a database made from the PostgreSQL one as template).
#
#   benches/daily.sh [N] [POSTGRES_URL]
#
# Defaults: 1000000, postgres://postgres@127.0.0.1:5432/postgres (the database to connect
# to for creating and dropping the benchmark's own databases; ops/services.sh starts the
# server). Needs psql. Each line gives the example's own timings and peak memory per step;
# "process" is the whole process's peak resident memory, from /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
admin=${2:-postgres://postgres@127.0.0.1:5432/postgres}
case $n in
  ''|*[!0-9]*) echo "$0: N must be a whole number, not '$n'" >&2; exit 2 ;;
esac
cargo build --release --quiet --example daily_diff
target=${CARGO_TARGET_DIR:-target}
bin=$target/release/examples/daily_diff

work=$(mktemp -d)
base_db=kpr_bench_daily_$$_base
run_db=kpr_bench_daily_$$_run
server=${admin%/*}
sql() { PGOPTIONS='-c client_min_messages=warning' psql "$admin" -v ON_ERROR_STOP=1 -qAt -c "$1"; }
cleanup() {
  rm -rf "$work"
  sql "DROP DATABASE IF EXISTS $run_db" 2>/dev/null || true
  sql "DROP DATABASE IF EXISTS $base_db" 2>/dev/null || true
}
trap cleanup EXIT

# Runs one step with its output and the process's peak memory on one line.
step() {
  local out
  out=$(/usr/bin/time -f "%M" -o "$work/peak" "$bin" "$@")
  echo "  $out; process peak $(($(cat "$work/peak") / 1024)) MiB"
}

echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1)"
echo "SQLite (temporary directory), $n services"
step setup "$n" "$work/base"
for run in 1 2 3; do
  rm -rf "$work/run"
  cp -r "$work/base" "$work/run"
  sync # or the copy's writing back competes with the capture's commit
  step measure "$n" "$work/run"
done

echo "PostgreSQL ($(sql 'SHOW server_version')), $n services"
sql "CREATE DATABASE $base_db"
step setup "$n" "$server/$base_db"
# What autovacuum would have done by the next day, and a checkpoint, so that every run
# starts alike.
psql "$server/$base_db" -qc "VACUUM ANALYZE" -c "CHECKPOINT"
for run in 1 2 3; do
  sql "DROP DATABASE IF EXISTS $run_db"
  sql "CREATE DATABASE $run_db TEMPLATE $base_db STRATEGY FILE_COPY"
  step measure "$n" "$server/$run_db"
done
