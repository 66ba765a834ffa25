#!/usr/bin/env bash
# The whole test suite: dependencies, shell checks, generated-code check, build, tests
# (unit, in-process live tests against a throwaway PostgreSQL and real mTLS, real nginx,
# php-fpm, Linux users and git for hosting, moto's and LocalStack's S3 servers for backups,
# localstripe and aiosmtpd for billing), and the
# process-level runs with the built executables: schemathesis against the admin API's
# OpenAPI contract with two tenants' tokens, and the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
export SWIFT_DETERMINISTIC_HASHING=1
scripts/install-deps.sh
echo "== shellcheck"
scripts/check-shell.sh
echo "== systemd unit"
scripts/check-systemd-unit.sh
echo "== alert rules (promtool)"
scripts/check-alerts.sh
echo "== Grafana dashboards (promtool)"
scripts/check-dashboards.sh
echo "== generated protobuf/gRPC code"
if [ "${CHOM_SKIP_GENERATED_CHECK:-0}" = 1 ]; then
  echo "skipped (CHOM_SKIP_GENERATED_CHECK=1)"
else
  Protocol/check-generated.sh
fi
# moto's S3 server (PyPI, into .build-tools/moto) and LocalStack's S3 (PyPI, into
# .build-tools/localstack; it verifies presigned URLs, which moto does not) install while the
# package builds.
moto_log="$(mktemp)"
localstack_log="$(mktemp)"
trap 'rm -f "$moto_log" "$localstack_log" "${billing_log:-}"' EXIT
scripts/install-moto.sh >"$moto_log" 2>&1 &
moto_pid=$!
scripts/install-localstack.sh >"$localstack_log" 2>&1 &
localstack_pid=$!
# localstripe (Stripe's API) and aiosmtpd (SMTP) for billing's live tests, into .build-tools/billing.
billing_log="$(mktemp)"
scripts/install-billing-peers.sh >"$billing_log" 2>&1 &
billing_pid=$!
step_started=$SECONDS
echo "== build"
swift build --build-tests 2>&1 | { grep -vE "^\[[0-9]+/[0-9]+\] (Compiling|Emitting|Write|Linking|Applying|Wrapping)" || true; }
echo "build took $((SECONDS - step_started)) s"
if ! wait "$moto_pid"; then
  cat "$moto_log" >&2
  echo "test.sh: installing moto failed" >&2
  exit 1
fi
CHOM_MOTO_SERVER="$(tail -n 1 "$moto_log")"
export CHOM_MOTO_SERVER
echo "moto_server: $CHOM_MOTO_SERVER"
if ! wait "$localstack_pid"; then
  cat "$localstack_log" >&2
  echo "test.sh: installing LocalStack failed" >&2
  exit 1
fi
CHOM_LOCALSTACK_SERVER="$(tail -n 1 "$localstack_log")"
export CHOM_LOCALSTACK_SERVER
echo "LocalStack S3: $CHOM_LOCALSTACK_SERVER"
if ! wait "$billing_pid"; then
  cat "$billing_log" >&2
  echo "test.sh: installing localstripe and aiosmtpd failed" >&2
  exit 1
fi
CHOM_BILLING_VENV="$(dirname "$(tail -n 1 "$billing_log")")"
export CHOM_BILLING_VENV
echo "localstripe, aiosmtpd: $CHOM_BILLING_VENV/bin"
# At most 8 tests at a time: unbounded, a hundred live tests start a PostgreSQL cluster, a
# coordinator and agents at once on 2 cores, and their 20 s enrollment deadlines pass.
export SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH="${SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH:-8}"
# The whole log is kept: a run that does not finish in CHOM_TEST_TIMEOUT seconds is stopped, and
# the tests that started but never ended are named (the filtered view hides "started" lines).
test_log="$(mktemp)"
trap 'rm -f "$moto_log" "$localstack_log" "$billing_log" "$test_log"' EXIT
run_swift_test() {
  set +e
  timeout --kill-after=30 "${CHOM_TEST_TIMEOUT:-2400}" swift test --skip-build "$@" 2>&1 | tee "$test_log" \
    | { grep --line-buffered -vE "(Test|Suite) .* started\.$" || true; }
  test_status=${PIPESTATUS[0]}
  set -e
  if [ "$test_status" -ne 0 ]; then
    if [ "$test_status" -eq 124 ] || [ "$test_status" -eq 137 ]; then
      echo "test.sh: swift test did not finish within ${CHOM_TEST_TIMEOUT:-2400} s; tests still running:" >&2
      scripts/pending-tests.sh "$test_log" >&2
    fi
    exit "$test_status"
  fi
}
step_started=$SECONDS
echo "== swift test"
# The coordinator-side chaos suite kills and restarts replica processes on fixed ports and loads
# both cores for minutes: it runs alone, after the rest, so that neither disturbs the other.
run_swift_test --skip ReplicaChaosTests
echo "swift test took $((SECONDS - step_started)) s"
step_started=$SECONDS
echo "== chaos on the coordinator's side (ReplicaChaosTests), alone"
run_swift_test --filter ReplicaChaosTests
echo "chaos suite took $((SECONDS - step_started)) s"
step_started=$SECONDS
echo "== admin API contract: schemathesis against the live coordinator"
scripts/contract-test.sh
echo "contract test took $((SECONDS - step_started)) s"
step_started=$SECONDS
echo "== process-level: demo --once"
scripts/demo.sh --once
echo "demo took $((SECONDS - step_started)) s; the whole suite $SECONDS s"
