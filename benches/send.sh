#!/usr/bin/env bash
# Measures sends per second with publisher confirms: N packed messages drained from the
# outbox (SQLite) to a RabbitMQ queue, each marked sent on its confirm (examples/send_rate.rs).
# Needs RabbitMQ on loopback (ops/services.sh starts it).
#
#   benches/send.sh [N] [AMQP_URL]      (defaults: 2000, amqp://guest:guest@127.0.0.1:5672/%2f)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2000}
url=${2:-amqp://guest:guest@127.0.0.1:5672/%2f}
case $n in
  ''|*[!0-9]*) echo "$0: N must be a whole number, not '$n'" >&2; exit 2 ;;
esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ops/make-test-certs.sh "$work/certs" >/dev/null
cargo build --release --quiet --example send_rate
target=${CARGO_TARGET_DIR:-target}
for run in 1 2 3; do
  echo "run $run: $("$target/release/examples/send_rate" "$work/certs" "$url" "$n")"
done
