#!/usr/bin/env bash
# Peak memory of packing one large payload from file to file (Shipping::pack_file:
# validate, wrap, validate, sign, encrypt), at two sizes: it should not grow with the size.
# examples/pack_large.rs writes the payload and packs it; /usr/bin/time measures the peak.
# `report` is a payload type without identity constraints; `daily`, the daily message, has
# them (xs:unique on every notification's GUID), whose keys libxml2 keeps while it validates.
#
#   benches/pack_large.sh [MB MB]        (default 50 500)
set -euo pipefail
cd "$(dirname "$0")/.."
small=${1:-50}
large=${2:-500}
for mb in "$small" "$large"; do
  case $mb in
    ''|*[!0-9]*) echo "$0: MB must be a whole number, not '$mb'" >&2; exit 2 ;;
  esac
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

ops/make-test-certs.sh "$work/certs" >/dev/null
cargo build --release --quiet --example pack_large
target=${CARGO_TARGET_DIR:-target}
bin=$target/release/examples/pack_large

echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
printf '%-8s %8s %12s %10s\n' type MB "peak (MiB)" "time (s)"
for kind in report daily; do
  for mb in "$small" "$large"; do
    rm -rf "$work/run" && mkdir "$work/run"
    /usr/bin/time -f '%M %e' -o "$work/time" "$bin" "$work/certs" "$work/run" "$kind" "$mb" >/dev/null
    read -r kb seconds < "$work/time"
    printf '%-8s %8s %12.1f %10s\n' "$kind" "$mb" "$(awk -v kb="$kb" 'BEGIN { print kb / 1024 }')" "$seconds"
  done
done
