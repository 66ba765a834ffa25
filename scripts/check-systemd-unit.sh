#!/usr/bin/env bash
# Checks agent-install/chom-agent.service with `systemd-analyze verify` (Debian package
# systemd; it runs without systemd as PID 1). verify insists that ExecStart's binary exists and
# is executable, and /usr/local/bin/chom-agent is not installed where the tests run, so the unit
# is checked as a copy whose ExecStart points at an executable stand-in in a temporary
# directory; nothing else is changed. verify exits 0 on unknown keys and bad values, only
# printing them, so any output fails the check; a copy with a misspelled key shows that the
# check would see one.
set -euo pipefail
cd "$(dirname "$0")/.."
unit=agent-install/chom-agent.service
command -v systemd-analyze >/dev/null || { echo "check-systemd-unit.sh: systemd-analyze is missing (apt-get install systemd)" >&2; exit 2; }
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
printf '#!/bin/sh\nexit 0\n' >"$scratch/chom-agent"
chmod 0755 "$scratch/chom-agent"
grep -q '^ExecStart=/usr/local/bin/chom-agent ' "$unit" || { echo "check-systemd-unit.sh: $unit has no ExecStart=/usr/local/bin/chom-agent" >&2; exit 1; }
sed "s#^ExecStart=/usr/local/bin/chom-agent #ExecStart=$scratch/chom-agent #" "$unit" >"$scratch/chom-agent.service"
if ! output="$(systemd-analyze verify "$scratch/chom-agent.service" 2>&1)" || [ -n "$output" ]; then
  echo "check-systemd-unit.sh: systemd-analyze verify $unit:" >&2
  echo "$output" >&2
  exit 1
fi
# The control: the same unit with a misspelled key must produce a complaint.
sed 's/^Delegate=/Delegat=/' "$scratch/chom-agent.service" >"$scratch/chom-agent-misspelled.service"
if [ -z "$(systemd-analyze verify "$scratch/chom-agent-misspelled.service" 2>&1)" ]; then
  echo "check-systemd-unit.sh: systemd-analyze verify did not notice a misspelled key; the check is blind" >&2
  exit 1
fi
echo "check-systemd-unit.sh: $unit ok"
