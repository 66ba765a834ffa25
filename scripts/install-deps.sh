#!/usr/bin/env bash
# Installs the Debian packages CHOM needs to build, test and run the demo, if missing.
set -euo pipefail
# nginx, php-fpm, util-linux (setpriv) and passwd (useradd) are what the agent hosts sites with;
# systemd only for systemd-analyze, which checks the agent's unit (it installs and runs without
# systemd as PID 1).
packages=(libzstd-dev zlib1g-dev zstd postgresql protobuf-compiler shellcheck git curl nginx-light php8.2-fpm util-linux passwd iproute2 openssl systemd)
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
fi
# The Debian postgresql package may start a system cluster; CHOM never uses it.
command -v swift >/dev/null || { echo "install-deps.sh: swift is not on PATH" >&2; exit 1; }
