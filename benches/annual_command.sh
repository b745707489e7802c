#!/usr/bin/env bash
# The whole `kpr-bridge annual` in the register's formats (issue 17): read and check the year,
# assemble it, write KPR_IPL (IPLOS 3.7) and KPR_IDE (ident 53.1.3), run the register's arrival
# checks, validate both against the official XSDs, pack them and put them in a spool — once
# per size, with its wall time and peak resident memory (/usr/bin/time's maximum RSS).
#
#   benches/annual_command.sh [PERSONS...]        (default 60000 1000000)
#
# Extracts are generated as benches/scale.sh makes them (`generate --seed 1 --year 2025`, in
# target/bench-data/extract-N-seed1) and reused. Prints one line per size; the figures go
# into docs/performance.md by hand, with this command.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(60000 1000000)

target=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet --bin kpr-bridge
bin=$target/release/kpr-bridge
data=$root/target/bench-data
mkdir -p "$data"
work=$(mktemp -d "$data/annual-work.XXXXXX")
trap 'rm -rf "$work"' EXIT
ops/make-test-certs.sh "$work/certs" >/dev/null

for n in "${sizes[@]}"; do
  extract=$data/extract-$n-seed1
  if [ ! -f "$extract/READY" ]; then
    "$bin" generate --persons "$n" --seed 1 --year 2025 --out "$extract" >/dev/null
  fi
  rm -rf "$work/state" "$work/spool"
  mkdir -p "$work/state" "$work/spool/out" "$work/spool/in"
  cat >"$work/annual.toml" <<TOML
mode = "test"
data_dir = "$work/state"
mapping = "$root/mappings/sample-epj.toml"
[municipality]
number = "4601"
name = "Bergen"
orgnr = "964338531"
[her_id]
municipality = "12345"
service_unit = "67890"
[[contact]]
type = 16
name = "IPLOS-kontakt (benchmark)"
email = "iplos@example.invalid"
[[contact]]
type = 17
name = "IPLOS-innsending (benchmark)"
email = "iplos@example.invalid"
[[source]]
name = "epj"
kind = "extract"
path = "$extract"
[delivery]
transport = "spool"
spool_dir = "$work/spool/out"
spool_receipts_dir = "$work/spool/in"
max_message_bytes = 4000000000
[certificates]
signing_certificate = "$work/certs/kommune-sign.crt"
signing_key = "$work/certs/kommune-sign.key"
encryption_certificate = "$work/certs/kommune-enc.crt"
encryption_key = "$work/certs/kommune-enc.key"
kpr_encryption_certificate = "$work/certs/kpr-enc.crt"
trust = ["$work/certs/ca.crt"]
kpr_signing_certificates = ["$work/certs/kpr-sign.crt"]
TOML
  rc=0
  /usr/bin/time -f "%e %M" -o "$work/time" "$bin" annual --config "$work/annual.toml" \
    --year 2025 --target validation --yes --allow-errors >"$work/out" 2>&1 || rc=$?
  if [ $rc -gt 1 ]; then
    echo "$0: annual for $n persons exited $rc:" >&2
    tail -n 20 "$work/out" >&2
    exit 1
  fi
  read -r seconds kib <"$work/time"
  packed=$(du -cb "$work/spool/out"/*.p7m | tail -1 | cut -f1)
  echo "$n persons: ${seconds} s, peak $((kib / 1024)) MiB, packed $((packed / 1024 / 1024)) MiB in the spool"
done
