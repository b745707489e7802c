#!/usr/bin/env bash
# Inspect and check on sample data: writes a synthetic extract of a municipality (Bergen, 4601,
# 2 000 persons, synthetic identity numbers only), inspects it with the sample mapping, and
# checks the year with the HTML report in target/sample-report.html. `kpr-bridge demo` runs the
# whole pipeline, delivery included.
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/sample-extract
cargo build --release --locked --quiet
target/release/kpr-bridge generate --persons 2000 --seed 1 --year 2025 --out "$out"
target/release/kpr-bridge inspect "$out" --mapping mappings/sample-epj.toml --year 2025 || true
cat > target/sample.toml <<TOML
mode = "test"
data_dir = "sample-state"
mapping = "../mappings/sample-epj.toml"
[municipality]
number = "4601"
name = "Bergen"
[her_id]
municipality = "12345"
service_unit = "67890"
[[source]]
name = "sample-epj"
kind = "extract"
path = "sample-extract"
TOML
echo
# Exit 1 means findings: the synthetic data has some on purpose.
target/release/kpr-bridge check --config target/sample.toml --year 2025 \
  --report target/sample-report.html || [ $? -eq 1 ]
