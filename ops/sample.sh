#!/usr/bin/env bash
# The main job on sample data: writes a synthetic extract of a municipality (Bergen, 4601,
# 2 000 persons, synthetic identity numbers only) and inspects it with the sample mapping.
# Later versions run the whole pipeline here.
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/sample-extract
cargo build --release --locked --quiet
target/release/kpr-bridge generate --persons 2000 --seed 1 --year 2025 --out "$out"
target/release/kpr-bridge inspect "$out" --mapping mappings/sample-epj.toml --year 2025
