#!/usr/bin/env bash
# CHOM's main job on this one machine: an embedded PostgreSQL, a coordinator with its first
# platform operator, an organization with two tenants, three agents on loopback enrolled with
# their own join tokens (each running its own nginx), six sites placed over them, deployed,
# served through nginx and backed up, one agent drained (its sites migrate to the others; the
# fleet table before and after), one agent killed (its sites fail over to the others from their
# backups), a site broken and fixed under Debian's Prometheus and Alertmanager (its CHOMSiteDown
# alert fires into CHOM and resolves), then an audit-chain verification. Stays up until Ctrl-C;
# --once exits after printing. Leaves no processes behind either way.
#   CHOM_DEMO_DIR   state directory (default /tmp/chom-demo; wiped at start)
#   CHOM_DEMO_PORT  base port (default 18080: API; +363 agents mTLS, +364 enrollment; agents' metrics +1001..;
#                   Prometheus +500, Alertmanager +501)
set -euo pipefail
cd "$(dirname "$0")/.."
once=0
[ "${1:-}" = "--once" ] && once=1
dir="${CHOM_DEMO_DIR:-/tmp/chom-demo}"
base="${CHOM_DEMO_PORT:-18080}"
api_port=$base
grpc_port=$((base + 363))
enroll_port=$((base + 364))

scripts/install-deps.sh
echo "== building (debug)"
export SWIFT_DETERMINISTIC_HASHING=1
swift build 2>&1 | { grep -vE "^\[[0-9]+/[0-9]+\] (Compiling|Emitting|Write|Linking|Applying|Wrapping)" || true; }
bin="$(swift build --show-bin-path)"

pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  # A process that has not stopped 30 s after SIGTERM is killed, and said so: a graceful
  # shutdown that hangs must not hang the demo or CI (one coordinator run was seen to).
  local deadline=$((SECONDS + 30))
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "demo: process $pid did not stop within 30 s of SIGTERM; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  # The coordinator stops its embedded PostgreSQL; if it was killed, stop it here (immediate).
  local postmaster="$dir/coordinator/postgres/data/postmaster.pid"
  if [ -f "$postmaster" ]; then kill -QUIT "$(head -n 1 "$postmaster")" 2>/dev/null || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rm -rf "$dir"
mkdir -p "$dir"
chmod 755 "$dir"
password="demo-$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')"
operator="operator@demo.test"
export CHOM_COORDINATOR="http://127.0.0.1:$api_port"
unset CHOM_TOKEN
# The CLI keeps its session under $HOME/.config/chom: give the demo its own.
mkdir -p "$dir/home"
chom() { HOME="$dir/home" "$bin/chom" "$@"; }

echo "== creating the first platform operator ($operator)"
printf '%s\n' "$password" | "$bin/chom-coordinator" bootstrap-operator --data-dir "$dir/coordinator" \
  --email "$operator" --password-stdin

echo "== starting the coordinator (embedded PostgreSQL under $dir/coordinator/postgres)"
# Backups go to a directory every agent on this machine can reach (on a VPS fleet: S3).
mkdir -p "$dir/backups"
# The agents share it, so a migration's backup on one is restored on another (fleet.sharedBackupDirectory);
# their sites are reached at 127.0.0.1, an address a fleet of real VPSs would refuse (agents.allowInternalAddresses).
# Failover is on, with a failure declared after 3 + 3 s of silence (heartbeats every second) so the
# demo's failover takes seconds, not the minute of the defaults.
# Alertmanager delivers to CHOM's receiver with this token (notifications.alertmanagerTokenFile).
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/alertmanager-token"
chmod 600 "$dir/alertmanager-token"
printf '{"backups": {"destination": {"path": "%s"}, "scheduleIntervalSeconds": 5}, "fleet": {"sharedBackupDirectory": true, "proxySeconds": 5, "tickSeconds": 0.5, "failoverEnabled": true}, "agents": {"allowInternalAddresses": true, "heartbeatIntervalSeconds": 1, "heartbeatTTLSeconds": 4, "failureGraceSeconds": 4, "siteLeaseSeconds": 4}, "notifications": {"alertmanagerTokenFile": "%s"}}\n' \
  "$dir/backups" "$dir/alertmanager-token" >"$dir/coordinator.json"
"$bin/chom-coordinator" serve --config "$dir/coordinator.json" --data-dir "$dir/coordinator" \
  --api-host 127.0.0.1 --api-port "$api_port" --grpc-host 127.0.0.1 --grpc-port "$grpc_port" \
  --grpc-enroll-port "$enroll_port" --log-level warning 2>"$dir/coordinator.log" &
pids+=($!)
for _ in $(seq 1 150); do
  chom health >/dev/null 2>&1 && break
  sleep 0.2
done
chom health >/dev/null || { echo "coordinator did not start; see $dir/coordinator.log" >&2; tail -20 "$dir/coordinator.log" >&2; exit 1; }

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
# served_by DOMAIN AGENT…: the last of the demo agents (numbers) whose nginx serves DOMAIN's page.
served_by() {
  local domain=$1 found="" i
  shift
  for i in "$@"; do
    if curl -fsS -H "Host: $domain" "http://127.0.0.1:$((base + 2000 + i))/" 2>/dev/null | grep -q "Hello from $domain"; then
      found="demo-agent-$i"
    fi
  done
  echo "$found"
}

printf '%s\n' "$password" | chom login --email "$operator" --password-stdin
org="$(chom orgs create "Demo Hosting" --output json | json "d['id']")"
tenant_a="$(chom tenants create --org "$org" acme --output json | json "d['id']")"
tenant_b="$(chom tenants create --org "$org" globex --output json | json "d['id']")"
echo "organization Demo Hosting with tenants acme and globex"

for i in 1 2 3; do
  created="$(chom join-token create --description "demo agent $i" --output json)"
  address="$(json "d['enrollAddress']" <<<"$created")"
  ca="$(json "d['caSHA256']" <<<"$created")"
  CHOM_JOIN_TOKEN="$(json "d['token']" <<<"$created")" \
    "$bin/chom-agent" enroll --coordinator "$address" --ca-sha256 "$ca" --state-dir "$dir/agent-$i" \
      --sites-root "$dir/sites-$i" --name "demo-agent-$i" >/dev/null
  # Each agent runs an nginx of its own (--hosting managed): three "VPS" on one machine.
  "$bin/chom-agent" run --state-dir "$dir/agent-$i" --sites-root "$dir/sites-$i" \
    --metrics-host 127.0.0.1 --metrics-port $((base + 1000 + i)) \
    --hosting managed --http-port $((base + 2000 + i)) --https-port $((base + 2100 + i)) \
    --public-address 127.0.0.1 --heartbeat-interval 1 --probe-interval 1 2>"$dir/agent-$i.log" &
  pids+=($!)
  echo "enrolled and started demo-agent-$i (nginx on 127.0.0.1:$((base + 2000 + i)), metrics on 127.0.0.1:$((base + 1000 + i)))"
done

for _ in $(seq 1 100); do
  online="$(chom agents list --output json | json "sum(1 for a in d['items'] if a['state']=='online')")"
  [ "$online" = 3 ] && break
  sleep 0.2
done
[ "$online" = 3 ] || { echo "only $online of 3 agents came online" >&2; exit 1; }
echo "== ping: a task that goes the whole way (envelope, stream, journal, result) and touches nothing"
chom agents ping demo-agent-1 --count 3

echo "== creating and deploying six sites"
for n in 1 2 3 4 5 6; do
  domain="site$n.demo.test"
  if [ "$n" -le 3 ]; then tenant="$tenant_a"; else tenant="$tenant_b"; fi
  chom sites create "$domain" --tenant "$tenant" >/dev/null
  mkdir -p "$dir/src/$domain/public"
  printf '<h1>Hello from %s</h1>\n' "$domain" >"$dir/src/$domain/public/index.html"
  started=$(date +%s%N)
  chom sites deploy "$domain" --dir "$dir/src/$domain" --output json >"$dir/deploy-$n.json"
  elapsed=$((($(date +%s%N) - started) / 1000000))
  echo "deployed $domain in ${elapsed} ms (pack, upload, seal, dispatch, configure nginx, fetch, verify, extract, switch, health check, report)"
done

echo "== fleet"
chom fleet
# Which nginx serves which site: each agent's port, asked with the site's Host header.
for n in 1 2 3 4 5 6; do
  served="$(served_by "site$n.demo.test" 1 2 3)"
  [ -n "$served" ] || { echo "site$n.demo.test is not served by any agent's nginx" >&2; exit 1; }
  echo "site$n.demo.test is served by $served's nginx"
done

echo "== backups"
for n in 1 4; do
  chom sites backup "site$n.demo.test" --output json >"$dir/backup-$n.json"
  echo "site$n.demo.test: $(json "d['message']" <"$dir/backup-$n.json")"
done
backup="$(json "d['backupId']" <"$dir/backup-1.json")"
chom sites verify-backup site1.demo.test "$backup" --output json | json "d['message']"
chom sites backups site1.demo.test
echo "== restoring site1.demo.test onto demo-agent-3 (another VPS)"
agent3="$(chom agents list --output json | json "[a['id'] for a in d['items'] if a['name']=='demo-agent-3'][0]")"
chom sites restore site1.demo.test "$backup" --agent "$agent3" --output json | json "d['message']"
curl -fsS -H "Host: site1.demo.test" "http://127.0.0.1:$((base + 2003))/" | grep -q "Hello from site1.demo.test" \
  || { echo "site1.demo.test is not served by demo-agent-3 after the restore" >&2; exit 1; }
echo "site1.demo.test is now served by demo-agent-3's nginx too"
curl -fsS "http://127.0.0.1:$((base + 1001))/metrics" | grep -E "^chom_agent_(tasks_total|stream_connected)" || true
sleep 2
for i in 1 2 3; do
  pid=${pids[$i]}
  echo "demo-agent-$i resident memory: $(awk '/VmRSS/ {print $2, $3}' "/proc/$pid/status")"
done

echo "== draining demo-agent-1: cordoned, its sites migrate to the other agents"
agent1="$(chom agents list --output json | json "[a['id'] for a in d['items'] if a['name']=='demo-agent-1'][0]")"
# The sites placed on demo-agent-1 now (a copy left by the restore above is reconciliation's).
held="$(chom sites list --output json | json "' '.join(s['domain'] for s in d['items'] if s.get('agentId')=='$agent1')")"
echo "demo-agent-1 holds: ${held:-nothing}"
chom fleet
chom agents drain demo-agent-1 --follow --timeout 300
chom fleet
for domain in $held; do
  if curl -fsS -H "Host: $domain" "http://127.0.0.1:$((base + 2001))/" 2>/dev/null | grep -q "Hello from $domain"; then
    echo "$domain is still served by the drained demo-agent-1" >&2
    exit 1
  fi
  served="$(served_by "$domain" 2 3)"
  # The drain ends with the switch; give nginx a moment, and say what the agents answered if not.
  for _ in $(seq 1 40); do
    [ -z "$served" ] || break
    for i in 2 3; do
      echo "  demo-agent-$i answers $domain with HTTP $(curl -sS -o /dev/null -w "%{http_code}" -H "Host: $domain" "http://127.0.0.1:$((base + 2000 + i))/" 2>/dev/null)" >&2
    done
    sleep 0.5
    served="$(served_by "$domain" 2 3)"
  done
  [ -n "$served" ] || { echo "$domain is not served by demo-agent-2 or -3 after the drain" >&2; exit 1; }
  echo "$domain moved and is served by $served's nginx"
done

echo "== failover: demo-agent-3 stops for good; its sites come back on the others from their backups"
chom agents uncordon demo-agent-1 >/dev/null
agent3="$(chom agents list --output json | json "[a['id'] for a in d['items'] if a['name']=='demo-agent-3'][0]")"
held="$(chom sites list --output json | json "' '.join(s['domain'] for s in d['items'] if s.get('agentId')=='$agent3')")"
echo "demo-agent-3 holds: ${held:-nothing}"
for domain in $held; do chom sites backup "$domain" --output json | json "'$domain: ' + d['message']"; done
chom fleet failover --plan demo-agent-3
# Stopped (with its nginx), so nothing of it outlives the demo; the coordinator only sees it fall silent.
kill -TERM "${pids[3]}"
while kill -0 "${pids[3]}" 2>/dev/null; do sleep 0.2; done
echo "demo-agent-3 stopped at $(date +%T)"
for _ in $(seq 1 300); do
  open="$(chom fleet migrations --output json | json "sum(1 for m in d['items'] if m['reason']=='failover' and 'finishedAt' not in m)")"
  done_count="$(chom fleet migrations --output json | json "sum(1 for m in d['items'] if m['reason']=='failover' and m['state']=='succeeded')")"
  [ "$open" = 0 ] && [ "$done_count" -ge "$(wc -w <<<"$held")" ] && break
  sleep 0.5
done
chom agents list
chom fleet migrations
for domain in $held; do
  served="$(served_by "$domain" 1 2)"
  [ -n "$served" ] || { echo "$domain is not served by demo-agent-1 or -2 after the failover" >&2; exit 1; }
  echo "$domain failed over and is served by $served's nginx"
done

echo "== billing: a plan, a quota, a mid-period upgrade and the projected invoice"
chom plans create starter --name Starter --currency EUR --price-minor 900 --sites 6 --members 3 >/dev/null
chom plans create pro --name Pro --currency EUR --price-minor 2900 --sites 50 --members 10 \
  --storage-gb 20 --bandwidth-gb 100 --overage site_hours=500 --overage bandwidth_bytes=5 >/dev/null
chom plans list
chom billing plan set "Demo Hosting" starter >/dev/null
refused="$(chom sites create site7.demo.test --tenant "$tenant_a" 2>&1 || true)"
echo "a 7th site on the 6-site starter plan: $refused"
case "$refused" in *quota*|*allows*) ;; *) echo "the 7th site was not refused by the quota" >&2; exit 1 ;; esac
chom billing plan set "Demo Hosting" pro
chom billing show "Demo Hosting"

echo "== alerts: Debian's Prometheus and Alertmanager watch the fleet; a site is broken, then fixed"
# The shipped examples (coordinator-config), pointed at the demo's ports, with 1 s intervals and
# the rules' for: durations cut to 0 s so that the alert shows within seconds.
mkdir -p "$dir/prometheus/alerts"
prometheus_port=$((base + 500))
alertmanager_port=$((base + 501))
chom tokens create prometheus --ability agents:read --expires-in 1d --output json | json "d['token']" \
  >"$dir/prometheus/prometheus-token"
sed -e "s/scrape_interval: 15s/scrape_interval: 1s/; s/scrape_timeout: 10s/scrape_timeout: 1s/" \
  -e "s/evaluation_interval: 15s/evaluation_interval: 1s/; s/refresh_interval: 30s/refresh_interval: 1s/" \
  -e "s/127.0.0.1:8080/127.0.0.1:$api_port/g; s/127.0.0.1:9093/127.0.0.1:$alertmanager_port/" \
  -e "s|/etc/chom-coordinator/prometheus-token|$dir/prometheus/prometheus-token|" \
  coordinator-config/prometheus.yml >"$dir/prometheus/prometheus.yml"
sed -E "s/for: [0-9]+[smh]/for: 0s/" coordinator-config/alerts/chom.yml >"$dir/prometheus/alerts/chom.yml"
sed -e "s/group_wait: 30s/group_wait: 1s/; s/group_interval: 5m/group_interval: 1s/" \
  -e "s/127.0.0.1:8080/127.0.0.1:$api_port/; s|/etc/chom-coordinator/alertmanager-token|$dir/alertmanager-token|" \
  coordinator-config/alertmanager.yml >"$dir/prometheus/alertmanager.yml"
/usr/bin/prometheus-alertmanager --config.file="$dir/prometheus/alertmanager.yml" \
  --storage.path="$dir/prometheus/alertmanager-data" --web.listen-address="127.0.0.1:$alertmanager_port" \
  --cluster.listen-address= >"$dir/alertmanager.log" 2>&1 &
pids+=($!)
/usr/bin/prometheus --config.file="$dir/prometheus/prometheus.yml" --storage.tsdb.path="$dir/prometheus/data" \
  --web.listen-address="127.0.0.1:$prometheus_port" >"$dir/prometheus.log" 2>&1 &
pids+=($!)
echo "Prometheus on 127.0.0.1:$prometheus_port, Alertmanager on 127.0.0.1:$alertmanager_port"
# A site of a running agent (demo-agent-3 is gone): its health check now asks for a missing page.
watched="$(chom sites list --output json | json "[s['domain'] for s in d['items'] if s.get('agentId') and s.get('agentId') != '$agent3'][0]")"
site_alert() {  # site_alert STATUS: the first CHOMSiteDown of $watched with that status, as one line
  chom alerts --site "$watched" --output json 2>/dev/null \
    | json "next((a['alertname'] + ' ' + a['status'] + ' since ' + a['startsAt'] + ((' until ' + a['endsAt']) if a.get('endsAt') else '') + ': ' + a['summary'] for a in d if a['alertname'] == 'CHOMSiteDown' and a['status'] == '$1'), '')" \
    2>/dev/null || true
}
wait_alert() {  # wait_alert STATUS SECONDS
  local line="" deadline=$((SECONDS + $2))
  while [ "$SECONDS" -lt "$deadline" ]; do
    line="$(site_alert "$1")"
    [ -n "$line" ] && { echo "$line"; return 0; }
    sleep 1
  done
  echo "no $1 CHOMSiteDown for $watched within $2 s; see $dir/prometheus.log and $dir/alertmanager.log" >&2
  return 1
}
echo "breaking $watched: its health check now asks for /healthz, which it does not have"
chom sites config "$watched" --health-path /healthz >/dev/null
wait_alert firing 180
echo "fixing $watched: its health check asks for / again"
chom sites config "$watched" --health-path / >/dev/null
wait_alert resolved 180
chom alerts --site "$watched"

echo "== audit log"
chom audit list --limit 5
chom audit verify

if [ "$once" = 1 ]; then
  echo "== --once: stopping"
  exit 0
fi
echo "== running; Ctrl-C stops the coordinator, the agents and PostgreSQL"
wait
