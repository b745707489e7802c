#!/usr/bin/env bash
# For the project's tests and for a local dry run, never for a production machine: makes sure
# what the tests talk to is here and running — PostgreSQL, MariaDB and RabbitMQ on loopback,
# Debian's Chromium and ChromeDriver for the browser tests — and what building kpr-bridge needs: libxml2
# (XSD validation) and OpenSSL (CMS), with their headers. The same RabbitMQ (guest/guest on
# 127.0.0.1:5672) serves a dry run with the local test receiver (`kpr-bridge receiver`,
# ops/broker.md). Installs what is missing (Debian packages; that needs root) and starts what
# is stopped; on a machine that has them running it only checks.
# The tests expect PostgreSQL at postgres://postgres@127.0.0.1:5432 and MariaDB at
# mysql://root@127.0.0.1:3306 without passwords (KPR_TEST_POSTGRES / KPR_TEST_MYSQL override):
# on a fresh install this script lets both in from loopback without a password, which is
# why it belongs on a test machine only.
set -euo pipefail

apt_updated=""
install() {
  if [ "$(id -u)" != 0 ]; then
    echo "ops/services.sh: $* missing; run this script as root, or install them: apt-get install $*" >&2
    exit 2
  fi
  if [ -z "$apt_updated" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
    apt_updated=yes
  fi
  echo "ops/services.sh: installing $*" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null
}

# Waits up to 60 s for a command to succeed.
wait_for() {
  local what=$1; shift
  for _ in $(seq 60); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  echo "ops/services.sh: $what did not come up within 60 s" >&2
  exit 2
}

postgres_answers() { psql -h 127.0.0.1 -U postgres -d postgres -Atc 'SELECT 1' >/dev/null 2>&1; }
mariadb_answers() { mariadb -h 127.0.0.1 -u root -e 'SELECT 1' >/dev/null 2>&1; }

# PostgreSQL
if [ -z "${KPR_TEST_POSTGRES:-}" ] && ! postgres_answers; then
  command -v pg_ctlcluster >/dev/null 2>&1 || install postgresql postgresql-client
  version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1) || true
  if [ -z "$version" ]; then
    # The server is installed but has no cluster (dropped, or create_main_cluster = false).
    version=$(ls /usr/lib/postgresql | sort -V | tail -1)
    pg_createcluster "$version" main >/dev/null
  fi
  pg_isready -h 127.0.0.1 -q || pg_ctlcluster --skip-systemctl-redirect "$version" main start
  wait_for "PostgreSQL" pg_isready -h 127.0.0.1 -q
  if ! postgres_answers; then
    # A fresh install asks for passwords on TCP: trust loopback, for this test machine only.
    hba=/etc/postgresql/$version/main/pg_hba.conf
    sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
    pg_ctlcluster --skip-systemctl-redirect "$version" main reload
    wait_for "PostgreSQL with loopback trust" postgres_answers
  fi
fi

# MariaDB
if [ -z "${KPR_TEST_MYSQL:-}" ] && ! mariadb_answers; then
  command -v mariadbd >/dev/null 2>&1 || install mariadb-server mariadb-client
  if ! mariadb-admin ping >/dev/null 2>&1; then
    mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    wait_for "MariaDB" mariadb-admin ping
  fi
  if ! mariadb_answers; then
    # A fresh install lets root in only through its socket: allow loopback without password.
    mariadb -u root -e "ALTER USER root@localhost IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('')"
    wait_for "MariaDB root on loopback" mariadb_answers
  fi
fi

# RabbitMQ, for the transport tests: guest/guest on 127.0.0.1:5672 (KPR_TEST_AMQP overrides)
rabbitmq_answers() { rabbitmq-diagnostics -q check_port_listener 5672 >/dev/null 2>&1; }
if [ -z "${KPR_TEST_AMQP:-}" ] && ! rabbitmq_answers; then
  command -v rabbitmq-server >/dev/null 2>&1 || install rabbitmq-server
  rabbitmq-server -detached >/dev/null 2>&1 || true
  wait_for "RabbitMQ" rabbitmq_answers
fi

# RabbitMQ's AMQP 1.0 plugin (on the same port), so that the tests' independent AMQP 1.0 peer
# (tests/peer/kpr_peer.py) sees messages as NHN's receivers, AMQP 1.0 clients, do
if [ -z "${KPR_TEST_AMQP:-}" ] && ! rabbitmq-plugins -q list -e rabbitmq_amqp1_0 2>/dev/null | grep -q amqp1_0; then
  rabbitmq-plugins enable rabbitmq_amqp1_0 >/dev/null
fi

# libxml2, linked for XSD validation: the build needs libxml2.so (the -dev package)
if ! pkg-config --exists libxml-2.0 2>/dev/null; then
  install libxml2-dev pkg-config
fi

# OpenSSL's headers, for the openssl crate (CMS, TLS): it builds against the system's OpenSSL
if ! pkg-config --exists openssl 2>/dev/null; then
  install libssl-dev pkg-config
fi

# The openssl tool, for the certificate and packing tests
command -v openssl >/dev/null 2>&1 || install openssl

# xmllint, the independent validator the tests check the register's formats with
command -v xmllint >/dev/null 2>&1 || install libxml2-utils

# The AMQP 1.0 peer's library: python-qpid-proton from PyPI (builds from source with the C
# compiler and OpenSSL's headers)
if ! python3 -c 'import proton' >/dev/null 2>&1; then
  command -v pip3 >/dev/null 2>&1 || install python3-pip
  echo "ops/services.sh: installing python-qpid-proton" >&2
  pip3 install -q python-qpid-proton >/dev/null || pip3 install -q --break-system-packages python-qpid-proton >/dev/null
fi

# The Prometheus organisation's own exposition parser (Python prometheus_client), the
# independent reader of /metrics in tests/status.rs
if ! python3 -c 'import prometheus_client' >/dev/null 2>&1; then
  command -v pip3 >/dev/null 2>&1 || install python3-pip
  echo "ops/services.sh: installing prometheus_client" >&2
  pip3 install -q prometheus_client >/dev/null || pip3 install -q --break-system-packages prometheus_client >/dev/null
fi

# Chromium, for the HTML report test, and its WebDriver for the administration page's
# browser test (tests/admin_browser.rs)
if [ -z "${CHROMIUM:-}" ] && [ ! -x /usr/bin/chromium ]; then
  install chromium
fi
if [ -z "${CHROMEDRIVER:-}" ] && [ ! -x /usr/bin/chromedriver ]; then
  install chromium-driver
fi

# cargo-deny and cargo-machete for ops/test.sh's lint step, at pinned versions, built once
# into cargo's bin directory (~/.cargo/bin, kept between runs on a machine; a first build
# takes about 2 min for cargo-machete and 5 min for cargo-deny on 2 cores)
cargo_tool() {
  local name=$1 version=$2
  if ! "$name" --version 2>/dev/null | grep -qwF "$version"; then
    echo "ops/services.sh: installing $name $version (cargo install --locked)" >&2
    cargo install --locked --quiet "$name@$version"
  fi
}
# 0.18.9: the first that reads the CVSS 4.0 vectors of RustSec's 2025–2026 advisories.
cargo_tool cargo-deny 0.18.9
cargo_tool cargo-machete 0.9.2
