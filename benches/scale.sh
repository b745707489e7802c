#!/usr/bin/env bash
# Scale benchmarks (issue 8): for each number of persons, a generated extract is read by
#
#   floor   reading the five files and splitting them on ';' and newlines, nothing decoded
#           (benches/read_extract.rs --floor-only, in process);
#   check   `kpr-bridge check --year 2025` over the extract;
#   daily   the initial load, `kpr-bridge daily --initial --since 2026-01-01 --date 2026-01-05`
#           (every service active since 1 January as HIS 1135 notifications, in parts); then
#           `kpr-bridge daily` on the next day after 1 % of the services got an end date:
#           read, check, capture (diff, numbering, sealing, commit) and ship (XPR(ipl)
#           56.0.0 messages in parts, validated, packed, written to a spool);
#   annual  `kpr-bridge annual --year 2025 --target validation --yes --allow-errors`: read,
#           check, write KPR_IPL and KPR_IDE, validate, pack, into the outbox and the spool.
#
# Each phase runs three times (page cache warm); the median wall time is reported, and the
# highest peak resident memory of the three (/usr/bin/time's maximum RSS; VmHWM for the
# floor). Each daily and annual run starts from the same state (a copy of the baseline, a new
# data directory). Ratio = floor seconds / phase seconds (1.0 would be as fast as the floor).
#
#   benches/scale.sh [--quick] [PERSONS...]
#
# Full mode (default 60000 1000000) writes the table into docs/performance.md between
# `<!-- scale:begin -->` and `<!-- scale:end -->`. Quick mode (default 2000) proves the script
# works: it prints the table and writes it to target/bench-data/scale-quick.md only.
# Extracts are generated once (`generate --seed 1 --year 2025`) into
# target/bench-data/extract-N-seed1, the directory the read_extract bench uses, and reused.
# Needs /usr/bin/time and openssl (for the test certificates). Disk: about 2.5 GB per
# 1,000,000 persons for the extracts, and as much again while it runs.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

quick=0
sizes=()
for arg in "$@"; do
  case $arg in
    --quick) quick=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    ''|*[!0-9]*) echo "$0: PERSONS must be a whole number, not '$arg'" >&2; exit 2 ;;
    *) sizes+=("$arg") ;;
  esac
done
if [ ${#sizes[@]} -eq 0 ]; then
  if [ $quick = 1 ]; then sizes=(2000); else sizes=(60000 1000000); fi
fi
command="benches/scale.sh $*"
command=${command% }

target=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet --bin kpr-bridge
cargo bench --quiet --bench read_extract --no-run 2>/dev/null
bin=$target/release/kpr-bridge
data=$root/target/bench-data
mkdir -p "$data"
work=$(mktemp -d "$data/scale-work.XXXXXX")
trap 'rm -rf "$work"' EXIT
ops/make-test-certs.sh "$work/certs" >/dev/null

log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

# config NAME DATA_DIR EXTRACT: a configuration with one extract source and a spool.
config() {
  mkdir -p "$2" "$work/spool/$1/out" "$work/spool/$1/in"
  cat >"$work/$1.toml" <<TOML
mode = "test"
data_dir = "$2"
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
path = "$3"

[delivery]
transport = "spool"
spool_dir = "$work/spool/$1/out"
spool_receipts_dir = "$work/spool/$1/in"
# The annual message of a large municipality is far over the network's 30 MB: the benchmark
# measures building it whole.
max_message_bytes = 8000000000

[certificates]
signing_certificate = "$work/certs/kommune-sign.crt"
signing_key = "$work/certs/kommune-sign.key"
encryption_certificate = "$work/certs/kommune-enc.crt"
encryption_key = "$work/certs/kommune-enc.key"
kpr_encryption_certificate = "$work/certs/kpr-enc.crt"
trust = ["$work/certs/ca.crt"]
kpr_signing_certificates = ["$work/certs/kpr-sign.crt"]
TOML
}

# timed OUTPUT COMMAND...: runs the command under /usr/bin/time; appends "SECONDS KIB" to
# $work/times. Exit 0 and 1 are results (errors found, something held back); 2 or worse
# fails (returns 1) with the command's last lines on stderr.
timed() {
  local out=$1 rc=0
  shift
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$out" 2>&1 || rc=$?
  if [ $rc -gt 1 ]; then
    echo "$0: '$*' exited $rc:" >&2
    tail -n 20 "$out" >&2
    return 1
  fi
  tail -n 1 "$work/time" >>"$work/times"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# summary: the median seconds and highest peak (KiB) of $work/times, which it empties.
summary() {
  echo "$(cut -d' ' -f1 "$work/times" | median) $(cut -d' ' -f2 "$work/times" | sort -n | tail -n 1)"
  : >"$work/times"
}

# change_one_percent IN OUT: the services of IN with 1 % of all services given an end date,
# 2026-01-06 (granted services still open then; every row of a service with pauses).
change_one_percent() {
  awk -F';' -v OFS=';' '
    NR == FNR {
      if (FNR > 1 && !($1 in all)) { all[$1] = 1; total++ }
      if (FNR > 1 && $4 == "granted" && $6 != "" && $6 <= "2026-01-05" && ($7 == "" || $7 >= "2026-01-07") && !($1 in ok)) {
        ok[$1] = 1; order[++eligible] = $1
      }
      next
    }
    FNR == 1 {
      want = int(total / 100); k = want > 0 ? int(eligible / want) : 0; if (k < 1) k = 1
      for (i = 1; i <= want && i * k <= eligible; i++) pick[order[i * k]] = 1
      print; next
    }
    ($1 in pick) {
      $7 = "2026-01-06"
      if (!($1 in seen)) { seen[$1] = 1; changed++ }
    }
    { print }
    END { print changed " " total > "/dev/stderr" }
  ' "$1" "$1" >"$2" 2>"$work/changed"
}

machine="$(nproc) vCPU $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
commit=$(git rev-parse --short HEAD)
git diff --quiet HEAD -- src benches examples Cargo.toml Cargo.lock || commit="$commit (with uncommitted changes)"
started=$(date -u +"%Y-%m-%d %H:%M UTC")
: >"$work/times"
table=$work/table.md
notes=$work/notes.md
: >"$notes"
{
  echo "| persons | phase | seconds | persons/s | rows/s | MB/s | peak memory | floor ÷ phase |"
  echo "|---:|---|---:|---:|---:|---:|---:|---:|"
} >"$table"

# publish: the table so far, printed and written (after each size, so a long run that is
# stopped keeps what it measured).
publish() {
  block=$work/block.md
  {
    echo "<!-- scale:begin -->"
    echo "<!-- Written by benches/scale.sh; do not edit by hand. -->"
    echo
    echo '```sh'
    echo "$command"
    echo '```'
    echo
    echo "Run $started on $machine; commit $commit; $(rustc --version | cut -d' ' -f1-2), release"
    echo "profile. Median of three runs per phase; peak memory is the highest of the three."
    echo
    cat "$table"
    echo
    cat "$notes"
    echo "<!-- scale:end -->"
  } >"$block"

  cat "$block"
  if [ $quick = 1 ]; then
    cp "$block" "$data/scale-quick.md"
    log "quick mode: the table is in $data/scale-quick.md; docs/performance.md is unchanged"
  else
    doc=docs/performance.md
    if grep -q '^<!-- scale:begin -->' "$doc"; then
      awk -v block="$block" '
        /^<!-- scale:begin -->/ { while ((getline line < block) > 0) print line; skip = 1; next }
        /^<!-- scale:end -->/ { skip = 0; next }
        !skip { print }' "$doc" >"$work/doc" && cat "$work/doc" >"$doc"
    else
      { echo; cat "$block"; } >>"$doc"
    fi
    log "the table is in $doc"
  fi
}

for n in "${sizes[@]}"; do
  extract=$data/extract-$n-seed1
  if [ -e "$extract/READY" ]; then
    generated="reused"
  else
    log "generating $n persons into $extract"
    rm -rf "$extract"
    /usr/bin/time -f "%e %M" -o "$work/time" "$bin" generate --persons "$n" --seed 1 --year 2025 --out "$extract" >/dev/null
    read -r gen_s gen_kib <"$work/time"
    generated="generated in $gen_s s (peak $((gen_kib / 1024)) MiB)"
  fi

  log "$n: floor"
  floor_line=$(cargo bench --quiet --bench read_extract -- --persons "$n" --floor-only 2>/dev/null | grep '^floor ')
  read -r _ floor_s rows bytes floor_peak <<<"$floor_line"
  mb=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }')

  # row PHASE SECONDS PEAK_KIB
  row() {
    awk -v n="$n" -v p="$1" -v s="$2" -v kib="$3" -v rows="$rows" -v bytes="$bytes" -v f="$floor_s" '
      function group(x,   r) { x = sprintf("%.0f", x); r = ""
        while (length(x) > 3) { r = "," substr(x, length(x) - 2) r; x = substr(x, 1, length(x) - 3) }
        return x r }
      BEGIN {
        printf "| %s | %s | %.3f | %s | %s | %s | %.0f MiB | %.2f |\n", group(n), p, s,
          group(n / s), group(rows / s), group(bytes / 1e6 / s), kib / 1024, f / s
      }' >>"$table"
  }
  row "floor: read + split" "$floor_s" "$((floor_peak / 1024))"

  log "$n: check (3 runs)"
  config check "$work/check-state" "$extract"
  for _ in 1 2 3; do timed "$work/check.out" "$bin" check --config "$work/check.toml" --year 2025 || exit 1; done
  read -r s kib <<<"$(summary)"
  row "check" "$s" "$kib"

  log "$n: annual (3 runs)"
  for _ in 1 2 3; do
    rm -rf "$work/annual-state" "$work/spool/annual"
    config annual "$work/annual-state" "$extract"
    timed "$work/annual.out" "$bin" annual --config "$work/annual.toml" --year 2025 \
      --target validation --yes --allow-errors
    [ -n "$(ls "$work/spool/annual/out")" ] || { echo "$0: annual wrote nothing to the spool" >&2; tail "$work/annual.out" >&2; exit 1; }
  done
  read -r s kib <<<"$(summary)"
  row "annual: build, validate, pack" "$s" "$kib"
  log "$n: daily, the baseline (--initial)"
  day2=$data/extract-$n-seed1-day2
  rm -rf "$day2"
  mkdir -p "$day2"
  for f in "$extract"/*.csv; do ln "$f" "$day2/" 2>/dev/null || cp "$f" "$day2/"; done
  rm "$day2/services.csv"
  change_one_percent "$extract/services.csv" "$day2/services.csv"
  read -r changed services <"$work/changed"
  touch "$day2/READY"
  config daily-base "$work/daily-base" "$extract"
  if timed "$work/initial.out" "$bin" daily --config "$work/daily-base.toml" --initial --since 2026-01-01 --date 2026-01-05; then
    read -r initial_s initial_kib <<<"$(summary)"
    row "daily --initial: the initial load" "$initial_s" "$initial_kib"
    initial_said=$(grep -m1 'notification(s)' "$work/initial.out" || true)
    parts=$(grep -c ' part [0-9]* of [0-9]*: message' "$work/initial.out" || true)
    baseline="the initial load made $parts message(s): \"${initial_said%% —*}\"; the state store then held $(du -sk "$work/daily-base" | cut -f1) KiB ($(awk -v k="$(du -sk "$work/daily-base" | cut -f1)" -v s="$services" 'BEGIN { printf "%.0f", k * 1024 / s }') bytes per service)"
    log "$n: daily, 1 % changed (3 runs)"
    for _ in 1 2 3; do
      rm -rf "$work/daily-run" "$work/spool/daily-run"
      cp -r "$work/daily-base" "$work/daily-run"
      config daily-run "$work/daily-run" "$day2"
      sync
      timed "$work/daily.out" "$bin" daily --config "$work/daily-run.toml" --date 2026-01-06 || exit 1
    done
    read -r s kib <<<"$(summary)"
    row "daily: 1 % of services changed" "$s" "$kib"
    daily_said=$(grep -m1 'notification(s)' "$work/daily.out" || true)
  else
    : >"$work/times"
    echo "| $(echo "$n" | sed ':a; s/\B[0-9]\{3\}\>/,&/; ta') | daily: 1 % of services changed | not measured: the baseline failed | | | | | |" >>"$table"
    baseline="**the initial load (\`daily --initial\`) failed, so the daily run was not measured**: $(grep -m1 '^error:' "$work/initial.out" || tail -n 1 "$work/initial.out")"
    daily_said=""
  fi

  rm -rf "$work/annual-state" "$work/spool/annual" "$work/daily-run" "$work/daily-base" "$day2"

  {
    echo "- $n persons: $mb MB in five files, $rows lines; extract $generated."
    echo "  Daily: $baseline; then $changed of $services services got an end date.${daily_said:+ The last run said: \"${daily_said%% —*}\".}"
  } >>"$notes"
  publish >/dev/null
done
publish
