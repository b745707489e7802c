#!/usr/bin/env bash
# Measures the annual message at scale (examples/annual_pack.rs): N synthetic persons written
# as KPR_IPL and KPR_IDE, each validated, enveloped, validated again, signed and encrypted —
# all streaming through files. Prints the example's own timings and the process's peak
# resident memory (from /usr/bin/time) for each N.
#
#   benches/annual.sh [N ...]        (default: 100000 1000000)
#
# Goal (issue 6): 100,000 persons in under 5 s and 200 MB; 1,000,000 persons within 1.5x the
# peak memory of 100,000. Needs /usr/bin/time and openssl (for the test certificates).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100000 1000000)
for n in "${sizes[@]}"; do
  case $n in
    ''|*[!0-9]*) echo "$0: N must be a whole number, not '$n'" >&2; exit 2 ;;
  esac
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ops/make-test-certs.sh "$work/certs" >/dev/null
cargo build --release --quiet --example annual_pack
target=${CARGO_TARGET_DIR:-target}
for n in "${sizes[@]}"; do
  out=$(/usr/bin/time -f "%M %e" -o "$work/time" "$target/release/examples/annual_pack" "$work/certs" "$n")
  read -r peak_kib wall <"$work/time"
  echo "$out; process: peak $((peak_kib / 1024)) MiB, wall ${wall} s"
done
