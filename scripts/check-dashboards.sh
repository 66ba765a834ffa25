#!/usr/bin/env bash
# Checks the Grafana dashboards in coordinator-config/grafana/dashboards with Prometheus' own parser
# (Debian's prometheus package, installed by scripts/install-deps.sh):
#   - every dashboard is valid JSON (`python3 -m json.tool`);
#   - every panel's `expr` and every query variable's `label_values(SELECTOR, LABEL)` selector, with
#     the template variables replaced by sample values ($agent, $tenant, $site; $__rate_interval 1m,
#     $__interval 15s, $__range 1h), is written as a recording rule and `promtool check rules` parses
#     them all;
#   - every datasource names the uid chom-prometheus (provisioning/datasources/chom.yml).
# The live test (Tests/CHOMLiveTests/Observability/GrafanaDashboards.swift) runs the same queries
# against a real Prometheus scraping a fleet.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v promtool >/dev/null || { echo "check-dashboards.sh: promtool is missing (apt-get install prometheus)" >&2; exit 1; }
dashboards=(coordinator-config/grafana/dashboards/*.json)
[ -e "${dashboards[0]}" ] || { echo "check-dashboards.sh: no dashboards in coordinator-config/grafana/dashboards" >&2; exit 1; }
for dashboard in "${dashboards[@]}"; do
  python3 -m json.tool "$dashboard" >/dev/null || { echo "check-dashboards.sh: $dashboard is not valid JSON" >&2; exit 1; }
done
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
python3 - "$scratch/dashboards.rules.yml" "$scratch/index.tsv" "${dashboards[@]}" <<'PY'
import json, os, re, sys

rules_path, index_path, paths = sys.argv[1], sys.argv[2], sys.argv[3:]
values = {
    "agent": "00000000-0000-4000-8000-000000000001", "tenant": "00000000-0000-4000-8000-000000000002",
    "site": "example.test", "__rate_interval": "1m", "__interval": "15s", "__range": "1h",
}
reference = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)(?::[^\]]*)?\]\]|\$(\w+)")

def substitute(expr):
    def replace(match):
        name = next(group for group in match.groups() if group)
        return values.get(name, match.group(0))
    return reference.sub(replace, expr)

problems, groups, index_lines = [], [], []
for path in paths:
    name = os.path.basename(path)
    dashboard = json.load(open(path))
    queries = []  # (where, expression)

    def walk(node, panel):
        if isinstance(node, dict):
            if isinstance(node.get("expr"), str):
                queries.append((f"{panel}/{node.get('refId', '?')}", node["expr"]))
            for key, child in node.items():
                if key == "datasource" and isinstance(child, dict) and child.get("uid") != "chom-prometheus":
                    problems.append(f"{name}#{panel}: datasource {child.get('uid')!r} is not chom-prometheus")
                elif key == "datasource" and isinstance(child, str):
                    problems.append(f"{name}#{panel}: datasource {child!r} is not referenced by uid")
                elif key == "panels" and isinstance(child, list):
                    for item in child:
                        walk(item, item.get("title", panel) if isinstance(item, dict) else panel)
                elif key != "templating":
                    walk(child, panel)
        elif isinstance(node, list):
            for item in node:
                walk(item, panel)

    walk(dashboard, "dashboard")
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") != "query":
            continue
        walk({"datasource": variable.get("datasource")}, f"${variable.get('name')}")
        query = variable.get("definition") or variable.get("query")
        if isinstance(query, dict):
            query = query.get("query")
        found = re.fullmatch(r"\s*label_values\((.*),\s*(\w+)\s*\)\s*", query or "")
        if not found:
            problems.append(f"{name}#${variable.get('name')}: not label_values(SELECTOR, LABEL): {query!r}")
            continue
        queries.append((f"${variable['name']}", found.group(1)))
    rules = []
    for index, (where, expr) in enumerate(queries):
        substituted = substitute(expr)
        if "$" in substituted or "[[" in substituted:
            problems.append(f"{name}#{where}: a template variable is left after substitution: {substituted}")
        record = "dashboard:" + re.sub(r"\W", "_", name.removesuffix(".json")) + f":q{index}"
        rules.append({"record": record, "expr": substituted})
        index_lines.append(f"{record}\t{name}#{where}\t{substituted}\n")
    groups.append({"name": name, "rules": rules})
with open(rules_path, "w") as out:
    json.dump({"groups": groups}, out, indent=1)  # JSON is YAML: promtool reads it as is
with open(index_path, "w") as out:
    out.writelines(index_lines)
for problem in problems:
    print(f"check-dashboards.sh: {problem}", file=sys.stderr)
if problems:
    sys.exit(1)
print(f"check-dashboards.sh: {len(index_lines)} queries from {len(paths)} dashboards, each datasource chom-prometheus")
PY
if ! output="$(promtool check rules "$scratch/dashboards.rules.yml" 2>&1)"; then
  echo "$output" >&2
  # Name the panel behind each rule Prometheus refused.
  grep -oE 'dashboard:[a-z_]+:q[0-9]+' <<<"$output" | sort -u | while read -r record; do
    grep -F "$record"$'\t' "$scratch/index.tsv" | sed 's/^/check-dashboards.sh: refused: /' >&2
  done
  exit 1
fi
echo "$output"
