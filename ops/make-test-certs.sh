#!/usr/bin/env bash
# Makes test certificates like Norwegian enterprise certificates (virksomhetssertifikater),
# for dry runs against the local KPR test receiver and for the project's tests. Never use
# them against the real register.
#
#   ops/make-test-certs.sh DIR [DAYS]      (DAYS the certificates are valid; default 365)
#
# Writes to DIR:
#   ca.crt, ca.key                   a test CA that issues the four below
#   kommune-sign.crt / .key          the municipality's signing pair     (nonRepudiation)
#   kommune-enc.crt  / .key          the municipality's encryption pair  (keyEncipherment)
#   kpr-sign.crt     / .key          KPR's signing pair (the test receiver signs AppRecs)
#   kpr-enc.crt      / .key          KPR's encryption pair (what the municipality encrypts to)
#   annen-sign.crt   / .key          another enterprise's signing pair from the same CA: what
#                                    anyone holds who might forge a receipt (for tests)
#   broker.crt       / .key          a TLS server certificate for localhost and 127.0.0.1,
#                                    for a local broker's amqps:// listener
# Private keys are written readable by their owner only (mode 600): kpr-bridge refuses keys
# that group or others can read.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 DIR [DAYS]" >&2
  exit 2
fi
dir=$1
days=${2:-365}
case $days in
  ''|*[!0-9]*) echo "$0: DAYS must be a whole number of days, not '$days'" >&2; exit 2 ;;
esac
command -v openssl >/dev/null || { echo "$0: openssl is missing; install Debian's openssl" >&2; exit 2; }
mkdir -p "$dir"
umask 077

extensions="$dir/.extensions.cnf"
trap 'rm -f "$extensions" "$dir"/*.csr "$dir"/*.srl' EXIT
cat > "$extensions" <<'CNF'
[req]
distinguished_name = dn
[dn]

[ca]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[sign]
basicConstraints = critical, CA:false
keyUsage = critical, nonRepudiation, digitalSignature
extendedKeyUsage = clientAuth, emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[tls]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid

[enc]
basicConstraints = critical, CA:false
keyUsage = critical, keyEncipherment, dataEncipherment
extendedKeyUsage = clientAuth, emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF

# Runs openssl quietly; shows what it said only when it fails.
quiet_openssl() {
  local said
  if ! said=$(openssl "$@" 2>&1); then
    echo "$0: openssl $1 failed:" >&2
    echo "$said" >&2
    exit 1
  fi
}

quiet_openssl req -x509 -new -newkey rsa:3072 -nodes -days "$days" -sha256 \
  -subj "/C=NO/O=kpr-bridge TEST CA/CN=kpr-bridge test CA - not for production" \
  -keyout "$dir/ca.key" -out "$dir/ca.crt" -config "$extensions" -extensions ca

# pair NAME ORGANISATION ORGNR USE
pair() {
  local name=$1 org=$2 orgnr=$3 use=$4
  quiet_openssl req -new -newkey rsa:2048 -nodes -config "$extensions" \
    -subj "/C=NO/O=$org/serialNumber=$orgnr/CN=$org - TEST $use" \
    -keyout "$dir/$name.key" -out "$dir/$name.csr"
  quiet_openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
    -CAcreateserial -days "$days" -sha256 \
    -extfile "$extensions" -extensions "$use" -out "$dir/$name.crt"
}
pair kommune-sign "BERGEN KOMMUNE" 964338531 sign
pair kommune-enc "BERGEN KOMMUNE" 964338531 enc
pair kpr-sign "FOLKEHELSEINSTITUTTET" 983744516 sign
pair kpr-enc "FOLKEHELSEINSTITUTTET" 983744516 enc
pair annen-sign "ANNEN VIRKSOMHET AS" 910000006 sign
pair broker "kpr-bridge TEST BROKER" 000000000 tls
chmod 600 "$dir"/*.key
chmod 644 "$dir"/*.crt
echo "Test certificates in $dir, valid $days days (CA: $dir/ca.crt)."
