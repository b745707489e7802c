#!/usr/bin/env bash
# Measures packing (sign + encrypt) and unpacking (decrypt + verify) of one large MsgHead-like
# document with kpr-bridge (examples/pack_file.rs), against the `openssl cms` tool doing the
# same with the same certificates: the floor. Best wall time of 5 runs of each, files in the
# page cache. MB are 10^6 bytes, of the document.
#
#   benches/pack.sh [MB]        (default 50)
set -euo pipefail
cd "$(dirname "$0")/.."
mb=${1:-50}
case $mb in
  ''|*[!0-9]*) echo "$0: MB must be a whole number, not '$mb'" >&2; exit 2 ;;
esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
certs=$work/certs

ops/make-test-certs.sh "$certs" >/dev/null
cargo build --release --quiet --example pack_file
target=${CARGO_TARGET_DIR:-target}
bin=$target/release/examples/pack_file

# A document of services, one element per line, to the size asked for.
awk -v bytes=$((mb * 1000000)) 'BEGIN {
  print "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
  print "<MsgHead xmlns=\"http://www.kith.no/xmlstds/msghead/2006-05-24\"><Document><Content>"
  n = 0
  for (i = 0; n < bytes; i++) {
    line = sprintf("<Tjeneste><Id>%d</Id><Kode>%d</Kode><Fra>2025-01-%02d</Fra><Til>2025-12-31</Til><Kommune>4601</Kommune></Tjeneste>", i, 100 + i % 30, 1 + i % 28)
    print line
    n += length(line) + 1
  }
  print "</Content></Document></MsgHead>"
}' > "$work/document.xml"
size=$(stat -c %s "$work/document.xml")

now() { date +%s%N; }
# best COMMAND...: the best wall time of five runs, in seconds.
best() {
  local best="" start end
  for _ in 1 2 3 4 5; do
    start=$(now)
    "$@"
    end=$(now)
    best=$(awk -v t=$(( end - start )) -v b="$best" 'BEGIN { t /= 1e9; print (b == "" || t < b) ? t : b }')
  done
  echo "$best"
}

ours_pack() { "$bin" pack "$certs" "$work/document.xml" "$work/ours.der" >> "$work/ours.log"; }
ours_unpack() { "$bin" unpack "$certs" "$work/ours.der" "$work/ours.xml" >> "$work/ours.log"; }
openssl_pack() {
  openssl cms -sign -binary -nodetach -outform DER -in "$work/document.xml" \
      -signer "$certs/kommune-sign.crt" -inkey "$certs/kommune-sign.key" |
    openssl cms -encrypt -binary -aes-256-cbc -inform DER -outform DER \
      -out "$work/openssl.der" "$certs/kpr-enc.crt"
}
openssl_unpack() {
  openssl cms -decrypt -inform DER -in "$work/openssl.der" \
      -recip "$certs/kpr-enc.crt" -inkey "$certs/kpr-enc.key" |
    openssl cms -verify -inform DER -CAfile "$certs/ca.crt" -purpose any \
      -out "$work/openssl.xml" 2>/dev/null
}

ours_pack_s=$(best ours_pack)
ours_unpack_s=$(best ours_unpack)
openssl_pack_s=$(best openssl_pack)
openssl_unpack_s=$(best openssl_unpack)
cmp -s "$work/document.xml" "$work/ours.xml" || { echo "$0: kpr-bridge did not unpack the document it packed" >&2; exit 1; }
cmp -s "$work/document.xml" "$work/openssl.xml" || { echo "$0: openssl did not unpack the document it packed" >&2; exit 1; }
# Each side also reads the other's packing.
"$bin" unpack "$certs" "$work/openssl.der" "$work/cross.xml" >/dev/null
cmp -s "$work/document.xml" "$work/cross.xml" || { echo "$0: kpr-bridge did not unpack openssl's packing" >&2; exit 1; }

# The best in-process time (the packing itself, without start-up and file I/O).
inner() { awk -v d="$1" '$1 == d && (t == "" || $4 < t) { t = $4 } END { print t }' "$work/ours.log"; }
peak() { /usr/bin/time -f %M -o "$work/rss" "$@" >/dev/null; awk '{ printf "%.0f", $1 / 1024 }' "$work/rss"; }

rate() { awk -v s="$size" -v t="$1" 'BEGIN { printf "%.1f", s / 1e6 / t }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b / a }'; }
echo "document: $size bytes; $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
printf '%-30s %8s s %8s MB/s\n' "kpr-bridge pack (process)" "$ours_pack_s" "$(rate "$ours_pack_s")"
printf '%-30s %8s s %8s MB/s\n' "kpr-bridge pack (in process)" "$(inner pack)" "$(rate "$(inner pack)")"
printf '%-30s %8s s %8s MB/s\n' "openssl cms sign | encrypt" "$openssl_pack_s" "$(rate "$openssl_pack_s")"
printf '%-30s %8s s %8s MB/s\n' "kpr-bridge unpack (process)" "$ours_unpack_s" "$(rate "$ours_unpack_s")"
printf '%-30s %8s s %8s MB/s\n' "kpr-bridge unpack (in process)" "$(inner unpack)" "$(rate "$(inner unpack)")"
printf '%-30s %8s s %8s MB/s\n' "openssl cms decrypt | verify" "$openssl_unpack_s" "$(rate "$openssl_unpack_s")"
echo "ratio to the openssl tool (its time / ours, process to process): pack $(ratio "$ours_pack_s" "$openssl_pack_s"), unpack $(ratio "$ours_unpack_s" "$openssl_unpack_s")"
echo "peak memory: kpr-bridge pack $(peak "$bin" pack "$certs" "$work/document.xml" "$work/ours.der") MB, unpack $(peak "$bin" unpack "$certs" "$work/ours.der" "$work/ours.xml") MB"
