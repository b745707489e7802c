#!/usr/bin/env bash
# One day's round of a multi-municipality deployment on 1 and on 2 replicas
# (examples/replicas_round.rs): M municipalities of P persons in one PostgreSQL database,
# RabbitMQ and the test receiver; read + capture, then ship + send + receipt, timed.
# Needs PostgreSQL and RabbitMQ on loopback (ops/services.sh starts them).
#
#   benches/replicas.sh [MUNICIPALITIES] [PERSONS]      (defaults: 100, 5000)
set -euo pipefail
cd "$(dirname "$0")/.."
m=${1:-100}
p=${2:-5000}
for n in "$m" "$p"; do
  case $n in
    ''|*[!0-9]*) echo "$0: MUNICIPALITIES and PERSONS are whole numbers, not '$n'" >&2; exit 2 ;;
  esac
done
cargo build --release --quiet --bin kpr-bridge --example replicas_round
target=${CARGO_TARGET_DIR:-target}
for replicas in 1 2; do
  work=$(mktemp -d)
  "$target/release/examples/replicas_round" "$target/release/kpr-bridge" "$work" "$m" "$p" "$replicas"
  rm -rf "$work"
done
