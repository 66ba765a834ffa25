#!/usr/bin/env bash
# make bench: every benchmark in one run (chom-bench all), each next to its peer measured in the
# same run, then one table of every ratio. Installs what is missing: the build's packages
# (install-deps.sh) and the peers from Debian: prometheus-node-exporter (node_exporter 1.5 in
# bookworm), restic (0.14), wrk (4.1), GNU time (peak RSS of each child). pgbench and psql come
# with the postgresql package. Builds chom-bench and chom-agent in release (.build-release).
# Needs root: the agent benchmark runs the real agent with its nginx in a network namespace, and
# the backup benchmark restores as the agent does.
# Arguments go to `chom-bench all` (--quick for a smoke run, --skip NAME,... to leave some out).
# The whole output is kept in .build-release/bench-<UTC time>.log.
set -euo pipefail
cd "$(dirname "$0")/.."
export SWIFT_DETERMINISTIC_HASHING=1
if [ "$(id -u)" -ne 0 ]; then
  echo "bench.sh: run as root (the agent and backup benchmarks need it)" >&2
  exit 1
fi
scripts/install-deps.sh
packages=(prometheus-node-exporter restic wrk time tar)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench.sh: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
  # The package enables a system node_exporter on :9100; the benchmark starts its own.
  if [ -d /run/systemd/system ]; then
    systemctl disable --now prometheus-node-exporter.service >/dev/null 2>&1 || true
  fi
fi
started=$SECONDS
for product in chom-bench chom-agent; do
  swift build -c release --product "$product" --scratch-path .build-release 2>&1 \
    | { grep -vE "^\[[0-9]+/[0-9]+\] (Compiling|Emitting|Write|Linking|Applying|Wrapping)" || true; }
done
echo "release build took $((SECONDS - started)) s"
export CHOM_AGENT_BINARY="$PWD/.build-release/release/chom-agent"
log=".build-release/bench-$(date -u +%Y%m%dT%H%M%SZ).log"
set +e
.build-release/release/chom-bench all "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
echo "bench.sh: the whole output is in $log"
exit "$status"
