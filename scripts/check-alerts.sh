#!/usr/bin/env bash
# Checks the alert rules and the example Prometheus configuration with Prometheus' own tool
# (Debian's prometheus package, installed by scripts/install-deps.sh):
#   - `promtool check rules` on coordinator-config/alerts/*.yml;
#   - `promtool test rules` on coordinator-config/alerts/tests/*.yml (the unit tests);
#   - every alert has a severity (critical or warning) and a runbook annotation, and the tests
#     name it at least once firing (exp_alerts not empty) and once silent (exp_alerts empty);
#   - `promtool check config` on coordinator-config/prometheus.yml;
#   - `amtool check-config` on coordinator-config/alertmanager.yml.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v promtool >/dev/null || { echo "check-alerts.sh: promtool is missing (apt-get install prometheus)" >&2; exit 1; }
promtool check rules coordinator-config/alerts/*.yml
(cd coordinator-config/alerts && promtool test rules tests/*.yml)
python3 - coordinator-config/alerts <<'PY'
import glob, os, sys, yaml
root = sys.argv[1]
alerts = {}
for path in sorted(glob.glob(os.path.join(root, "*.yml"))):
    for group in yaml.safe_load(open(path))["groups"]:
        for rule in group["rules"]:
            if "alert" in rule:
                alerts[rule["alert"]] = rule
fired, silent = set(), set()
for path in sorted(glob.glob(os.path.join(root, "tests", "*.yml"))):
    for test in yaml.safe_load(open(path))["tests"]:
        for case in test.get("alert_rule_test", []):
            (fired if case.get("exp_alerts") else silent).add(case["alertname"])
problems = []
for name, rule in sorted(alerts.items()):
    if rule.get("labels", {}).get("severity") not in ("critical", "warning"):
        problems.append(f"{name}: severity must be critical or warning")
    if not rule.get("annotations", {}).get("runbook", "").strip():
        problems.append(f"{name}: no runbook annotation")
    if name not in fired:
        problems.append(f"{name}: no test where it fires")
    if name not in silent:
        problems.append(f"{name}: no test where it stays silent")
for name in sorted((fired | silent) - set(alerts)):
    problems.append(f"{name}: tested but not defined")
for problem in problems:
    print(f"check-alerts.sh: {problem}", file=sys.stderr)
if problems:
    sys.exit(1)
print(f"check-alerts.sh: {len(alerts)} alerts, each with a severity, a runbook, and tests firing and silent")
PY
# promtool reads the credentials file it names; check a copy that points at a placeholder.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cp -r coordinator-config/alerts "$scratch/alerts"
echo placeholder > "$scratch/prometheus-token"
sed "s|/etc/chom-coordinator/prometheus-token|$scratch/prometheus-token|" coordinator-config/prometheus.yml > "$scratch/prometheus.yml"
promtool check config "$scratch/prometheus.yml"
echo "a-placeholder-token-of-at-least-32-characters" > "$scratch/alertmanager-token"
sed "s|/etc/chom-coordinator/alertmanager-token|$scratch/alertmanager-token|" coordinator-config/alertmanager.yml > "$scratch/alertmanager.yml"
amtool check-config "$scratch/alertmanager.yml"
