#!/usr/bin/env bash
# Installs the Debian packages CHOM needs to build, test and run the demo, if missing.
set -euo pipefail
# nginx, php-fpm, util-linux (setpriv) and passwd (useradd) are what the agent hosts sites with;
# systemd only for systemd-analyze, which checks the agent's unit (it installs and runs without
# systemd as PID 1).
packages=(libzstd-dev zlib1g-dev zstd postgresql protobuf-compiler shellcheck git curl nginx-light php8.2-fpm util-linux passwd iproute2 openssl systemd)
# PowerDNS Authoritative with the sqlite3 backend (the DNS tests start their own; sqlite3 creates its
# database from the shipped schema) and dig (bind9-dnsutils) to resolve through it.
packages+=(pdns-server pdns-backend-sqlite3 sqlite3 bind9-dnsutils)
# Prometheus 2.42 and Alertmanager 0.25 (Debian bookworm's versions): promtool checks and
# unit-tests the alert rules; python3-yaml reads them (and the OpenAPI document) in the checks.
packages+=(prometheus prometheus-alertmanager python3-yaml)
# rsyslog receives the agents' forwarded site logs in a live test (it starts its own on loopback),
# over TLS too with its gtls driver (rsyslog-gnutls).
packages+=(rsyslog rsyslog-gnutls)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps.sh: missing packages: ${missing[*]} (run as root or install them)" >&2
    exit 1
  fi
  echo "install-deps.sh: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
  # pdns-server enables a system pdns.service answering on port 53 of every address; CHOM's tests
  # start their own on loopback, so a service installed just now is stopped and disabled.
  if [[ " ${missing[*]} " == *" pdns-server "* ]] && [ -d /run/systemd/system ]; then
    systemctl disable --now pdns.service >/dev/null 2>&1 || true
  fi
  # The same for the Prometheus services the packages enable: the tests start their own.
  if [[ " ${missing[*]} " == *" prometheus"* ]] && [ -d /run/systemd/system ]; then
    for unit in prometheus prometheus-alertmanager prometheus-node-exporter; do
      systemctl disable --now "$unit.service" >/dev/null 2>&1 || true
    done
  fi
  if [[ " ${missing[*]} " == *" rsyslog "* ]] && [ -d /run/systemd/system ]; then
    systemctl disable --now rsyslog.service syslog.socket >/dev/null 2>&1 || true
  fi
fi
# The Debian postgresql package may start a system cluster; CHOM never uses it.
command -v swift >/dev/null || { echo "install-deps.sh: swift is not on PATH" >&2; exit 1; }
