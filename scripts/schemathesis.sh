#!/usr/bin/env bash
# Property-based API tests of a live CHOM admin API with schemathesis, once per bearer token.
#
#   scripts/schemathesis.sh BASE_URL SCHEMA_FILE TOKEN [TOKEN...]
#
# BASE_URL is the API's origin (http://127.0.0.1:8080); the schema's own server path, if any, is
# kept. SCHEMA_FILE is the OpenAPI document (a local file, or a URL such as BASE_URL/v1/openapi.yaml).
# Every request carries `Authorization: Bearer TOKEN`. The checks only concern server errors and
# conformance to the schema: 5xx, undocumented status codes, content types and headers, and
# response bodies that violate their schema. A 4xx that the schema documents (400 for invalid
# input, 401, 404, 409, 415 ...) passes.
#
# A run fails if schemathesis reports a failure or an error, if it ran 0 test cases, or if an
# operation answered only 401/403 (the token was not accepted; a green run would mean nothing).
# Ends with one line per token, `schemathesis: token K: N cases, F failures, E errors, ok|FAILED ...`,
# and an overall line; exits 1 if any run failed, 2 on bad usage.
#
# Environment (all optional):
#   CHOM_SCHEMATHESIS                 path to `st` (default: what scripts/install-schemathesis.sh prints)
#   CHOM_SCHEMATHESIS_MAX_EXAMPLES    test cases per operation and phase (default 25)
#   CHOM_SCHEMATHESIS_SEED            random seed (default 1729), so reruns generate the same cases
#   CHOM_SCHEMATHESIS_WORKERS         concurrent workers, 1..2 sensible here (default 1)
#   CHOM_SCHEMATHESIS_CHECKS          comma-separated schemathesis checks (default: the five above)
#   CHOM_SCHEMATHESIS_PHASES          comma-separated phases (default examples,coverage,fuzzing,stateful)
#   CHOM_SCHEMATHESIS_EXCLUDE         comma-separated operations never called, as schemathesis names
#                                     them: "METHOD /path", the path relative to the schema's server
#                                     path. Default: the two that revoke the token in use,
#                                     "POST /v1/auth/logout,POST /v1/tokens/revoke-all"; set it empty
#                                     to exclude nothing.
#   CHOM_SCHEMATHESIS_AUTH_REJECTED_OK  comma-separated operations allowed to answer only 401/403
#                                     (e.g. operator-only routes under a tenant token), or "*"
#   CHOM_SCHEMATHESIS_TIMEOUT         wall-clock limit of one run in seconds (default 900)
#   CHOM_SCHEMATHESIS_REQUEST_TIMEOUT limit of one request in seconds (default 10)
#   CHOM_SCHEMATHESIS_REPORT_DIR      keep the JSON and JUnit reports there (default: a temp dir, removed)
set -euo pipefail

usage() {
  echo "usage: $0 BASE_URL SCHEMA_FILE TOKEN [TOKEN...]" >&2
  exit 2
}
die() {
  echo "schemathesis.sh: $*" >&2
  exit 2
}
[ $# -ge 3 ] || usage
base_url=${1%/}
schema=$2
shift 2
tokens=("$@")
for t in "${tokens[@]}"; do [ -n "$t" ] || die "empty token"; done

case $base_url in
  http://* | https://*) ;;
  *) die "BASE_URL must start with http:// or https://" ;;
esac
case $schema in
  http://* | https://*) ;;
  *)
    [ -f "$schema" ] || die "no such schema file: $schema"
    schema=$(cd "$(dirname "$schema")" && pwd)/$(basename "$schema")
    ;;
esac
# A bare origin goes to --origin, which keeps the path of the schema's `servers` entry (a schema
# with `servers: [{url: /v1}]` and relative paths would otherwise be tested at the wrong URLs, and
# its 404s may be documented); a URL with a path is used as the base URL itself.
if [[ $base_url =~ ^https?://[^/]+$ ]]; then
  target=(--origin "$base_url")
else
  target=(--url "$base_url")
fi

number() {
  if ! [[ $2 =~ ^[0-9]+$ ]] || [ "$2" -lt 1 ]; then
    die "$1 must be a positive integer, not '$2'"
  fi
  echo "$2"
}
max_examples=$(number CHOM_SCHEMATHESIS_MAX_EXAMPLES "${CHOM_SCHEMATHESIS_MAX_EXAMPLES:-25}")
seed=$(number CHOM_SCHEMATHESIS_SEED "${CHOM_SCHEMATHESIS_SEED:-1729}")
workers=$(number CHOM_SCHEMATHESIS_WORKERS "${CHOM_SCHEMATHESIS_WORKERS:-1}")
run_timeout=$(number CHOM_SCHEMATHESIS_TIMEOUT "${CHOM_SCHEMATHESIS_TIMEOUT:-900}")
request_timeout=$(number CHOM_SCHEMATHESIS_REQUEST_TIMEOUT "${CHOM_SCHEMATHESIS_REQUEST_TIMEOUT:-10}")
checks=${CHOM_SCHEMATHESIS_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance}
phases=${CHOM_SCHEMATHESIS_PHASES:-examples,coverage,fuzzing,stateful}
exclude=${CHOM_SCHEMATHESIS_EXCLUDE-POST /v1/auth/logout,POST /v1/tokens/revoke-all}
auth_rejected_ok=${CHOM_SCHEMATHESIS_AUTH_REJECTED_OK:-}

exclude_args=()
IFS=, read -ra entries <<<"$exclude"
for entry in "${entries[@]}"; do
  entry=$(echo "$entry" | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//')
  [ -z "$entry" ] || exclude_args+=(--exclude-name "$entry")
done

st=${CHOM_SCHEMATHESIS:-}
if [ -z "$st" ]; then
  st=$("$(cd "$(dirname "$0")" && pwd)/install-schemathesis.sh")
fi
[ -x "$st" ] || die "schemathesis is not at '$st'"
python=$(dirname "$st")/python
[ -x "$python" ] || python=python3

# schemathesis keeps .hypothesis/ and .schemathesis/ (crash replays) in its working directory and
# reads a schemathesis.toml found there: run it in a fresh directory, not in the work tree.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -n "${CHOM_SCHEMATHESIS_REPORT_DIR:-}" ]; then
  mkdir -p "$CHOM_SCHEMATHESIS_REPORT_DIR"
  report_dir=$(cd "$CHOM_SCHEMATHESIS_REPORT_DIR" && pwd)
else
  report_dir=$work/reports
  mkdir -p "$report_dir"
fi

# summarize REPORT.json: prints "CASES FAILURES ERRORS TESTED AUTH_REJECTED" and notes on stderr.
summarize() {
  AUTH_REJECTED_OK=$auth_rejected_ok "$python" - "$1" <<'PY'
import json, os, sys
report = json.load(open(sys.argv[1]))
cases = report.get("test_cases", {})
ops = report.get("operations", {})
warnings = report.get("warnings", {}) or {}
allowed = {s.strip() for s in os.environ.get("AUTH_REJECTED_OK", "").split(",") if s.strip()}
rejected = [op for op in warnings.get("missing_auth", []) or [] if "*" not in allowed and op not in allowed]
for op in rejected:
    print(f"schemathesis.sh: {op} answered only 401/403 with this token", file=sys.stderr)
for kind, items in warnings.items():
    if items and kind != "missing_auth":
        print(f"schemathesis.sh: warning {kind}: {items}", file=sys.stderr)
errors = max(int(cases.get("errored", 0) or 0), int(ops.get("errored", 0) or 0),
             sum(int(e.get("count", 1)) for e in report.get("errors", []) or []))
print(int(cases.get("generated", 0) or 0), int(cases.get("unique_failures", 0) or 0),
      errors, int(ops.get("tested", 0) or 0), len(rejected))
PY
}

summaries=()
failed=()
for i in "${!tokens[@]}"; do
  k=$((i + 1))
  echo "== schemathesis: token $k of ${#tokens[@]}"
  report=$report_dir/token-$k.json
  log=$work/token-$k.log
  rm -f "$report"
  status=0
  (
    cd "$work"
    timeout --kill-after=10 "$run_timeout" "$st" run "$schema" "${target[@]}" \
      --header "Authorization: Bearer ${tokens[$i]}" \
      --checks "$checks" --phases "$phases" \
      --max-examples "$max_examples" --seed "$seed" --workers "$workers" \
      --request-timeout "$request_timeout" --generation-database none --no-color \
      --report json,junit --report-json-path "$report" --report-junit-path "$report_dir/token-$k.xml" \
      "${exclude_args[@]}"
  ) 2>&1 | tee "$log" || status=${PIPESTATUS[0]}

  reasons=()
  [ "$status" -eq 0 ] || reasons+=("schemathesis exited $status")
  [ "$status" -ne 124 ] && [ "$status" -ne 137 ] || reasons+=("timed out after ${run_timeout}s")
  if [ -s "$report" ] && numbers=$(summarize "$report"); then
    read -r cases failures errors tested rejected <<<"$numbers"
  else
    reasons+=("no JSON report")
    cases=$(grep -oE '^ *[0-9]+ generated' "$log" | tail -n1 | tr -dc 0-9 || true)
    cases=${cases:-0}
    failures=$(grep -oE '[0-9]+ unique failures?' "$log" | tail -n1 | tr -dc 0-9 || true)
    failures=${failures:-0}
    errors=0 tested=0 rejected=0
  fi
  [ "$cases" -gt 0 ] || reasons+=("no test cases generated")
  [ "$tested" -gt 0 ] || [ "$cases" -eq 0 ] || reasons+=("no operation tested")
  [ "$failures" -eq 0 ] || reasons+=("$failures failures")
  [ "$errors" -eq 0 ] || reasons+=("$errors errors")
  [ "$rejected" -eq 0 ] || reasons+=("token rejected by $rejected operations")

  line="schemathesis: token $k: $cases cases, $failures failures, $errors errors"
  if [ ${#reasons[@]} -eq 0 ]; then
    summaries+=("$line, ok")
  else
    joined=$(printf '%s; ' "${reasons[@]}")
    summaries+=("$line, FAILED (${joined%; })")
    failed+=("$k")
  fi
  total_cases=$((${total_cases:-0} + cases))
done

echo "== schemathesis summary"
printf '%s\n' "${summaries[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "schemathesis: FAILED for token(s) ${failed[*]} of ${#tokens[@]}"
  exit 1
fi
echo "schemathesis: all ${#tokens[@]} token runs passed, $total_cases cases"
