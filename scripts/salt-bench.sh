#!/usr/bin/env bash
# Measures Salt's `test.ping` on this machine, for a side-by-side benchmark with CHOM's agents:
# one salt-master and 10 salt-minions on 127.0.0.1, driven through Salt's Python API
# (salt.client.LocalClient) by scripts/salt-bench.py.
#
#   scripts/salt-bench.sh            # stdout: exactly one line of JSON; progress/logs on stderr
#
# Prints e.g. {"tool":"salt","version":"3008.5","minions":10,"seconds":10.0,"returns":N,
#   "returns_per_second":X,"job_latency_median_s":Y,"job_latency_p99_s":Z,
#   "return_latency_median_s":W,"mode":"...",...,"modes":[...every configuration measured...]}
# returns_per_second/returns/mode are those of the fastest configuration measured (K jobs in
# flight for K in SALT_BENCH_CONCURRENCY, plus LocalClient.cmd_iter sequentially); the latency
# figures come from one job alone in flight (K=1). See scripts/salt-bench.py.
#
# Environment (all optional):
#   SALT_BENCH_SECONDS=10          measuring time of each configuration
#   SALT_BENCH_CONCURRENCY=1,2,4,8 jobs in flight to try
#   SALT_BENCH_MINIONS=10          number of minions (ids bench-minion-01 ...)
#   SALT_BENCH_PUBLISH_PORT=14505  SALT_BENCH_RET_PORT=14506   (bound on 127.0.0.1 only)
#   SALT_BENCH_READY_TIMEOUT=180   seconds for the master to listen and every minion to answer
#   SALT_BENCH_JOB_TIMEOUT=30      seconds one job may take before it counts as failed
#   SALT_BENCH_MINION_MULTIPROCESSING=true   Salt's default (a process per job); false = threads
#   SALT_BENCH_NETNS=1             run master, minions and client in a private network namespace
#                                  whose only interface is loopback (needs root and unshare), so
#                                  that nothing can leave loopback: Salt's grains resolve this
#                                  host's name, which on the host asks the DNS server. 0 = host's
#                                  loopback.
#   SALT_BENCH_VENV=<repo>/.build-tools/salt   CHOM_PYTHON=python3 (3.11+, makes the venv)
#   SALT_BENCH_LOG_DIR=            if set, every process's log is copied there before cleanup
#
# Install: Salt (version below) from PyPI into a pinned venv (reused when its stamp matches), as
# root on a new Debian machine too: python3-venv, gcc and python3-dev are installed when missing
# (timelib, one of Salt's dependencies, is built from source).
# Every process started here has its own process group; all of them are killed and the temporary
# directory (configs, keys, caches, sockets, logs, pid files) removed on exit, error, Ctrl-C or
# kill.
set -euo pipefail

# Salt 3008.5 is the newest 3008.x. Its only change from 3008.4 is a floor of certifi>=2026.10.23,
# which PyPI as reachable here does not have yet (the newest is 2026.10.19.post1), so its
# dependencies are installed from the exact list below (pip freeze of `pip install salt==3008.4`,
# whose declared requirements equal 3008.5's except that floor, on CPython 3.11) and salt itself
# with --no-deps. Its salt/ tree is byte-identical to 3008.4's but for salt/_version.txt.
salt_version=3008.5
timelib_version=0.3.0 # a dependency with no wheel: built here with Cython and gcc
# setuptools, wheel and Cython build salt's and timelib's sdists (--no-build-isolation, so they are
# pinned too; Cython below 3.3 as in Salt's own requirements/constraints.txt).
requirements="aiohappyeyeballs==2.7.1
aiohttp==3.14.5
aiosignal==1.4.0
annotated-doc==0.0.7
annotated-types==0.8.0
apache-libcloud==3.9.1
attrs==26.1.0
backports.tarfile==1.2.0
certifi==2026.10.19.post1
cffi==2.1.1
charset-normalizer==3.5.3
cheroot==11.1.2
CherryPy==18.10.0
croniter==7.0.0
cryptography==50.0.2
Cython==3.2.9
distlib==0.4.4
distro==1.9.0
filelock==4.3.2
frozenlist==1.8.0
gitdb==4.0.12
GitPython==3.2.1
googleapis-common-protos==1.76.0
idna==3.20
importlib_metadata==10.2.0
jaraco.collections==5.2.1
jaraco.context==6.1.2
jaraco.functools==4.6.0
jaraco.text==4.3.0
Jinja2==3.1.6
jmespath==1.1.0
lazy-importer==0.1.0
looseversion==1.3.0
markdown-it-py==4.3.0
MarkupSafe==3.0.4
mdurl==0.1.2
more-itertools==11.2.1
msgpack==1.2.4
multidict==7.2.1
opentelemetry-api==1.45.2
opentelemetry-exporter-http-transport==0.66b2
opentelemetry-exporter-otlp-common==0.66b2
opentelemetry-exporter-otlp-proto-common==1.45.2
opentelemetry-exporter-otlp-proto-http==1.45.2
opentelemetry-exporter-prometheus==0.66b2
opentelemetry-proto==1.45.2
opentelemetry-sdk==1.45.2
opentelemetry-semantic-conventions==0.66b2
packaging==26.4
platformdirs==4.14.9
portend==3.2.1
prometheus_client==0.26.0
propcache==0.5.4
protobuf==7.36.2
psutil==7.2.2
pyasn1==0.6.5
pycparser==3.12
pycryptodomex==3.24.2
pydantic==2.14.4
pydantic_core==2.50.5
Pygments==2.21.0
pyOpenSSL==26.4.0
python-dateutil==4.0.0
python-discovery==1.9.7
python-gnupg==0.5.7
PyYAML==6.0.4
pyzmq==27.3.0
requests==2.34.2
rich==15.0.0
setproctitle==1.3.8
setuptools==84.2.1
shellingham==1.5.4
smmap==5.0.3
tempora==5.13.0
tornado==6.6.1
truststore==0.10.5
typer==0.29.2
typer-slim==0.24.0
typing-inspection==0.4.5
typing_extensions==4.16.0
tzdata==2026.6
urllib3==2.8.0
virtualenv==21.15.13
wheel==0.48.0
xxhash==4.1.0
yarl==1.25.1
zc.lockfile==4.0
zipp==4.1.2"

log() { echo "salt-bench.sh: $*" >&2; }
die() { log "FAILED: $*"; exit 1; }

script=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)/$(basename -- "${BASH_SOURCE[0]}")
scripts_dir=$(dirname -- "$script")
root=$(cd -- "$scripts_dir/.." && pwd)
venv=${SALT_BENCH_VENV:-$root/.build-tools/salt}
mkdir -p "$(dirname -- "$venv")"
venv=$(cd -- "$(dirname -- "$venv")" && pwd)/$(basename -- "$venv")
py=$venv/bin/python

seconds=${SALT_BENCH_SECONDS:-10}
concurrency=${SALT_BENCH_CONCURRENCY:-1,2,4,8}
n_minions=${SALT_BENCH_MINIONS:-10}
publish_port=${SALT_BENCH_PUBLISH_PORT:-14505}
ret_port=${SALT_BENCH_RET_PORT:-14506}
ready_timeout=${SALT_BENCH_READY_TIMEOUT:-180}
job_timeout=${SALT_BENCH_JOB_TIMEOUT:-30}
multiprocessing=${SALT_BENCH_MINION_MULTIPROCESSING:-true}
use_netns=${SALT_BENCH_NETNS:-1}
log_dir=${SALT_BENCH_LOG_DIR:-}
if [ -n "$log_dir" ] && [ "${log_dir#/}" = "$log_dir" ]; then log_dir=$PWD/$log_dir; fi

if ! [[ $n_minions =~ ^[1-9][0-9]?$ ]]; then die "SALT_BENCH_MINIONS must be 1..99"; fi
for p in "$publish_port" "$ret_port"; do
  if ! [[ $p =~ ^[1-9][0-9]{0,4}$ ]] || [ "$p" -ge 65536 ]; then die "bad port $p"; fi
done
[ "$publish_port" != "$ret_port" ] || die "publish and return ports must differ"
[[ $seconds =~ ^[0-9]+([.][0-9]+)?$ ]] || die "SALT_BENCH_SECONDS must be a number"
[[ $ready_timeout =~ ^[1-9][0-9]*$ ]] || die "SALT_BENCH_READY_TIMEOUT must be whole seconds"
case $multiprocessing in true | false) ;; *) die "SALT_BENCH_MINION_MULTIPROCESSING: true or false" ;; esac

stamp() { printf '%s\n' "$requirements" "timelib==$timelib_version" "salt==$salt_version" | sha256sum | cut -d' ' -f1; }

venv_ok() {
  [ -x "$py" ] && [ -f "$venv/.chom-requirements" ] && [ "$(cat "$venv/.chom-requirements")" = "$(stamp)" ] &&
    [ -x "$venv/bin/salt-master" ] && [ -x "$venv/bin/salt-minion" ] &&
    "$py" -c "import sys, salt.version, salt.client
sys.exit(salt.version.__version__ != '$salt_version')" >/dev/null 2>&1
}

apt_install() {
  [ "$(id -u)" -eq 0 ] || die "need Debian packages $* (run as root, or install them)"
  log "installing Debian's $*"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

install_salt() {
  local t0=$SECONDS
  log "installing Salt $salt_version into $venv"
  # shellcheck source=scripts/lib/pinned-venv.sh disable=SC1091
  . "$scripts_dir/lib/pinned-venv.sh"
  pinned_venv_install "$venv" "$requirements" || die "pip install of Salt's dependencies failed"
  # timelib has no wheel: it needs a C compiler and the venv's Python.h.
  if ! command -v gcc >/dev/null 2>&1 ||
    ! "$py" -c 'import os, sys, sysconfig
sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'; then
    apt_install gcc python3-dev
  fi
  "$py" -m pip install --quiet --disable-pip-version-check --no-input --no-deps --no-build-isolation \
    "timelib==$timelib_version" "salt==$salt_version" >&2 || die "pip install of salt==$salt_version failed"
  "$py" -c "import salt.version, salt.client, salt.utils.dateutils, zmq
assert salt.version.__version__ == '$salt_version', salt.version.__version__" >&2 ||
    die "salt $salt_version does not import in $venv"
  stamp >"$venv/.chom-requirements"
  log "installed Salt $salt_version in $((SECONDS - t0))s"
}

if [ -z "${SALT_BENCH__IN_NETNS:-}" ]; then
  if venv_ok; then
    log "reusing $venv (Salt $salt_version)"
  else
    install_salt
  fi
  if [ "$use_netns" = 1 ]; then
    [ "$(id -u)" -eq 0 ] || die "a private network namespace needs root (or set SALT_BENCH_NETNS=0)"
    command -v unshare >/dev/null 2>&1 || apt_install util-linux
    command -v ip >/dev/null 2>&1 || apt_install iproute2
    unshare --net true 2>/dev/null ||
      die "cannot create a network namespace (unshare --net); set SALT_BENCH_NETNS=0 to use the host's loopback"
    log "entering a private network namespace (loopback only)"
    exec unshare --net -- env SALT_BENCH__IN_NETNS=1 bash "$script" "$@"
  fi
else
  venv_ok || die "venv $venv is not ready"
  ip link set lo up || die "cannot bring loopback up in the network namespace"
fi

# ---------------------------------------------------------------------------------------------
# From here on, every process started is tracked: pids[i] is a process-group leader (setsid).
pids=()
declare -A name_of=()
tmp=
cleaned=

# live_groups: the tracked process groups (pids[]) that still have a live (not zombie) process.
live_groups() {
  local f line pgrp p
  local -A live=()
  for f in /proc/[0-9]*/stat; do
    read -r line 2>/dev/null <"$f" || continue # the process may be gone
    line=${line##*) } # "STATE PPID PGRP ...", after the command name
    [ "${line%% *}" = Z ] && continue
    line=${line#* }
    line=${line#* }
    pgrp=${line%% *}
    live[$pgrp]=1
  done
  for p in "${pids[@]}"; do
    if [ -n "${live[$p]:-}" ]; then echo "$p"; fi
  done
}

cleanup() {
  local rc=$? p i alive f
  [ -n "$cleaned" ] && return
  cleaned=1
  trap '' INT TERM
  if [ -n "$tmp" ] && [ "$rc" -ne 0 ] && [ "$rc" -ne 130 ] && [ "$rc" -ne 143 ]; then # failed
    for f in "$tmp"/master/log/* "$tmp"/bench-minion-*/log/salt.log; do
      [ -s "$f" ] || continue
      log "---- last lines of ${f#"$tmp"/}"
      case $f in */master/*) tail -n 12 "$f" >&2 ;; *) tail -n 3 "$f" >&2 ;; esac || true
    done
    [ -n "$log_dir" ] || log "(SALT_BENCH_LOG_DIR=DIR keeps every log)"
  fi
  if [ "${#pids[@]}" -gt 0 ]; then
    log "stopping ${#pids[@]} process groups"
    for p in "${pids[@]}"; do kill -TERM -- "-$p" "$p" 2>/dev/null || true; done
    for i in $(seq 100); do
      alive=$(live_groups)
      [ -z "$alive" ] && break
      sleep 0.1
    done
    if [ -n "$alive" ]; then
      for p in $alive; do
        log "${name_of[$p]:-?} (process group $p) still alive 10s after SIGTERM: SIGKILL"
        kill -KILL -- "-$p" "$p" 2>/dev/null || true
      done
      for i in $(seq 50); do
        alive=$(live_groups)
        [ -z "$alive" ] && break
        sleep 0.1
      done
      [ -z "$alive" ] || log "WARNING: process groups survived SIGKILL: ${alive//$'\n'/ }"
    fi
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  fi
  if [ -n "$tmp" ] && [ -d "$tmp" ]; then
    if [ -n "$log_dir" ]; then
      if ! { mkdir -p "$log_dir" &&
        (cd "$tmp" && find . -path '*/log/*' -type f -exec cp --parents {} "$log_dir" \;); }; then
        log "could not copy the logs to $log_dir"
      fi
    fi
    rm -rf -- "$tmp"
  fi
  return "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM

pgid_of() { # PID: its process group, or nothing once it is gone
  local line pgrp
  read -r line 2>/dev/null <"/proc/$1/stat" || return 0
  line=${line##*) }
  read -r _ _ pgrp _ <<<"$line"
  echo "$pgrp"
}

proc_alive() { # PID: running, not a zombie
  local line
  read -r line 2>/dev/null <"/proc/$1/stat" || return 1
  line=${line##*) }
  [ "${line%% *}" != Z ]
}

start() { # NAME OUT CMD...: run CMD in its own session and process group, stdout and stderr
  # to the file OUT, or to our stderr if OUT is -; track it in pids[].
  local name=$1 out=$2 pid g i
  shift 2
  if [ "$out" = - ]; then
    setsid "$@" </dev/null >&2 &
  else
    setsid "$@" </dev/null >"$out" 2>&1 &
  fi
  pid=$!
  pids+=("$pid")
  name_of[$pid]=$name
  # Daemons are killed by group and never waited for: no job notices ("Killed") from bash.
  [ "$name" = bench ] || disown "$pid"
  # Until setsid has run, the child is still in our process group, where killing its group
  # would miss it: wait for that. (setsid does not fork: without job control, our children are
  # no group leaders.)
  for i in $(seq 200); do
    g=$(pgid_of "$pid")
    if [ -z "$g" ] || [ "$g" = "$pid" ]; then return 0; fi
    sleep 0.05
  done
  die "$name (pid $pid) did not become a process-group leader"
}

tcp_listening() { # PORT: does something accept TCP connections on 127.0.0.1:PORT?
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

for p in "$publish_port" "$ret_port"; do
  tcp_listening "$p" && die "127.0.0.1:$p is already in use (set SALT_BENCH_PUBLISH_PORT/SALT_BENCH_RET_PORT)"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/salt-bench.XXXXXX")
log "working directory $tmp"

# Common settings: loopback only, no IPv6, no reverse-DNS or GPU grains, no telemetry.
common() { # DIR: the per-process paths, all under DIR
  local d=$1
  mkdir -p "$d/pki" "$d/cache" "$d/sock" "$d/run" "$d/log"
  cat <<EOF
root_dir: $d
pki_dir: $d/pki
cachedir: $d/cache
sock_dir: $d/sock
pidfile: $d/run/salt.pid
log_file: $d/log/salt.log
key_logfile: $d/log/key.log
log_level_logfile: warning
ipv6: false
enable_fqdns_grains: false
enable_gpu_grains: false
tracing:
  enabled: false
metrics:
  enabled: false
EOF
}

mdir=$tmp/master
{
  common "$mdir"
  mkdir -p "$mdir/srv/salt" "$mdir/srv/pillar"
  cat <<EOF
interface: 127.0.0.1
publish_port: $publish_port
ret_port: $ret_port
auto_accept: true
file_roots:
  base:
    - $mdir/srv/salt
pillar_roots:
  base:
    - $mdir/srv/pillar
EOF
} >"$tmp/master.conf"
mv "$tmp/master.conf" "$mdir/master"

minion_ids=()
for i in $(seq -w 1 "$n_minions"); do
  [ "${#i}" -eq 1 ] && i=0$i
  id=bench-minion-$i
  minion_ids+=("$id")
  d=$tmp/$id
  {
    common "$d"
    cat <<EOF
id: $id
master: 127.0.0.1
master_port: $ret_port
publish_port: $publish_port
multiprocessing: $multiprocessing
EOF
  } >"$tmp/$id.conf"
  mv "$tmp/$id.conf" "$d/minion"
done

read -r loadavg_before _ </proc/loadavg
t_start=$SECONDS
log "starting salt-master on 127.0.0.1:$publish_port (publish) and :$ret_port (return)"
start master "$mdir/log/console.out" "$venv/bin/salt-master" -c "$mdir" -l warning
master_pid=${pids[0]}

deadline=$((SECONDS + ready_timeout))
until [ -S "$mdir/sock/publish_pull.ipc" ] && [ -s "$mdir/cache/.root_key" ] &&
  tcp_listening "$ret_port" && tcp_listening "$publish_port"; do
  proc_alive "$master_pid" || die "salt-master exited during startup"
  [ "$SECONDS" -lt "$deadline" ] || die "salt-master not listening after ${ready_timeout}s"
  sleep 0.2
done
log "salt-master ready after $((SECONDS - t_start))s; starting $n_minions minions"

for id in "${minion_ids[@]}"; do
  start "$id" "$tmp/$id/log/console.out" "$venv/bin/salt-minion" -c "$tmp/$id" -l warning
done

pgids=$(IFS=,; echo "${pids[*]}")
remaining=$((deadline - SECONDS))
[ "$remaining" -gt 0 ] || remaining=1
# The measuring client: its own process group too, its progress straight to our stderr.
start bench - "$py" "$scripts_dir/salt-bench.py" \
  --master-config "$mdir/master" \
  --minions "$(IFS=,; echo "${minion_ids[*]}")" \
  --seconds "$seconds" --concurrency "$concurrency" \
  --ready-timeout "$remaining" --job-timeout "$job_timeout" --pgids "$pgids" \
  --minion-multiprocessing "$multiprocessing" --loadavg-before "$loadavg_before" --output "$tmp/result.json"
rc=0
wait "${pids[-1]}" || rc=$?
[ "$rc" -eq 0 ] || die "measurement failed (exit $rc)"
json=$(head -n 1 "$tmp/result.json" 2>/dev/null || true)
[ -n "$json" ] || die "the measurement wrote no result"
log "done in $((SECONDS - t_start))s"
printf '%s\n' "$json"
