#!/usr/bin/env bash
#
# install.sh — install and enroll a CHOM agent on a Debian VPS.
#
# Run as root on the new machine. Safe to re-run: an already-enrolled state
# directory (one holding identity/agent.json) is never enrolled again, files
# are only rewritten when their content or mode differs, and the service is
# only restarted when something it depends on changed.
#
# The join token is handed to `chom-agent enroll` through the environment
# variable CHOM_JOIN_TOKEN, never on a command line, and is never printed.

set -euo pipefail
set -o errtrace
umask 022

PROG=${0##*/}
readonly PROG
SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
readonly SCRIPT_DIR

readonly AGENT_USER=chom-agent
readonly AGENT_GROUP=chom-agent
readonly BIN_DEST=/usr/local/bin/chom-agent
readonly CONF_DIR=/etc/chom-agent
readonly ENV_FILE=$CONF_DIR/agent.env
readonly UNIT_NAME=chom-agent.service
readonly UNIT_SRC=$SCRIPT_DIR/$UNIT_NAME
readonly UNIT_DEST=/etc/systemd/system/$UNIT_NAME
readonly DROPIN_DIR=/etc/systemd/system/$UNIT_NAME.d
readonly DROPIN_FILE=$DROPIN_DIR/10-install-paths.conf
readonly DEFAULT_STATE_DIR=/var/lib/chom-agent
readonly DEFAULT_SITES_ROOT=/srv/chom/sites
readonly DEFAULT_METRICS_PORT=9464
readonly DEFAULT_METRICS_HOST=127.0.0.1
# The paths the shipped unit already allows writes to (ReadWritePaths=).
readonly UNIT_STATE_DIR=/var/lib/chom-agent
readonly UNIT_SITES_PARENT=/srv/chom

usage() {
    cat <<EOF
Usage: $PROG --coordinator HOST:PORT --token JOIN_TOKEN --ca-sha256 HEX [options]

Install the CHOM agent on this machine, enroll it with the coordinator and
start it as the systemd service $UNIT_NAME. Must be run as root, on glibc 2.34
or later (Debian 12, Ubuntu 22.04): the agent starts every program with
nothing of its own descriptors beyond 0-2 (posix_spawn_file_actions_addclosefrom_np).

Build hooks run only where cgroup v2 is mounted (Debian 11 and later: the
default) on Linux 5.14 or later: each hook runs in a cgroup of its own
inside the agent's (the unit sets Delegate=pids memory), which is killed
whole when the hook ends. Without it the agent says so at start and refuses
hooks.

Required:
  --coordinator HOST:PORT  coordinator gRPC endpoint (IPv6: [ADDR]:PORT)
  --token JOIN_TOKEN       one-time join token issued by the coordinator.
                           May instead be given in the environment variable
                           CHOM_JOIN_TOKEN, which keeps it out of 'ps'.
  --ca-sha256 HEX          SHA-256 fingerprint of the coordinator CA
                           (64 hex digits; ':' separators are accepted)

Options:
  --binary PATH            chom-agent binary to install
                           (default: chom-agent next to this script)
  --state-dir DIR          agent state directory (default: $DEFAULT_STATE_DIR)
  --sites-root DIR         root of hosted sites (default: $DEFAULT_SITES_ROOT)
  --metrics-port PORT      Prometheus metrics port (default: $DEFAULT_METRICS_PORT)
  --metrics-host ADDR      Address /metrics listens on (default: $DEFAULT_METRICS_HOST; use the
                           VPS's private address so a remote Prometheus can scrape it)
  --name NAME              agent name (default: chosen by chom-agent)
  --no-start               install and enroll, but do not enable or start
                           the service
  --dry-run                print every action instead of performing it
                           (does not need root)
  -h, --help               show this help and exit

Options may also be written as --option=VALUE.
EOF
}

die() {
    printf '%s: error: %s\n' "$PROG" "$*" >&2
    exit 1
}

warn() {
    printf '%s: warning: %s\n' "$PROG" "$*" >&2
}

info() {
    printf '%s: %s\n' "$PROG" "$*"
}

# Backstop for anything not covered by an explicit `|| die ...`.
trap 'die "unexpected failure at line $LINENO"' ERR

WORK_DIR=""
TMP_FILES=()
cleanup() {
    if ((${#TMP_FILES[@]} > 0)); then
        rm -f -- "${TMP_FILES[@]}"
    fi
    if [[ -n $WORK_DIR ]]; then
        rm -rf -- "$WORK_DIR"
    fi
}
trap cleanup EXIT

# ---------------------------------------------------------------------------
# Argument parsing
# ---------------------------------------------------------------------------

COORDINATOR=""
TOKEN=""
TOKEN_GIVEN=0
CA_SHA256=""
BINARY=""
STATE_DIR=$DEFAULT_STATE_DIR
SITES_ROOT=$DEFAULT_SITES_ROOT
METRICS_PORT=$DEFAULT_METRICS_PORT
METRICS_HOST=$DEFAULT_METRICS_HOST
AGENT_NAME=""
NO_START=0
DRY_RUN=0

while (($# > 0)); do
    arg=$1
    shift
    if [[ $arg == --*=* ]]; then
        opt=${arg%%=*}
        value=${arg#*=}
        inline=1
    else
        opt=$arg
        value=""
        inline=0
    fi
    case $opt in
        -h | --help | --no-start | --dry-run)
            ((inline == 0)) || die "option $opt does not take a value"
            case $opt in
                -h | --help)
                    usage
                    exit 0
                    ;;
                --no-start) NO_START=1 ;;
                --dry-run) DRY_RUN=1 ;;
            esac
            ;;
        --coordinator | --token | --ca-sha256 | --binary | --state-dir | --sites-root | --metrics-port | --metrics-host | --name)
            if ((inline == 0)); then
                if (($# == 0)) || [[ $1 == --* ]]; then
                    die "option $opt requires a value"
                fi
                value=$1
                shift
            fi
            case $opt in
                --coordinator) COORDINATOR=$value ;;
                --token)
                    TOKEN=$value
                    TOKEN_GIVEN=1
                    ;;
                --ca-sha256) CA_SHA256=$value ;;
                --binary) BINARY=$value ;;
                --state-dir) STATE_DIR=$value ;;
                --sites-root) SITES_ROOT=$value ;;
                --metrics-port) METRICS_PORT=$value ;;
                --metrics-host) METRICS_HOST=$value ;;
                --name) AGENT_NAME=$value ;;
            esac
            ;;
        -*)
            # Only the option name is echoed: a mistyped --token=... must not leak.
            die "unknown option: $opt (see --help)"
            ;;
        *)
            # Do not echo the value: it may be a secret given without its option.
            die "unexpected positional argument (see --help)"
            ;;
    esac
done

if ((TOKEN_GIVEN == 0)) && [[ -n ${CHOM_JOIN_TOKEN:-} ]]; then
    TOKEN=$CHOM_JOIN_TOKEN
fi
# Never let the token reach child processes other than the enroll command.
unset CHOM_JOIN_TOKEN

# ---------------------------------------------------------------------------
# Root check
# ---------------------------------------------------------------------------

if ((DRY_RUN == 0)) && ((EUID != 0)); then
    die "must be run as root (or use --dry-run to preview)"
fi

# ---------------------------------------------------------------------------
# Validation (nothing on the system is changed before this section passes)
# ---------------------------------------------------------------------------

is_port() {
    [[ $1 =~ ^[0-9]{1,5}$ ]] && ((10#$1 >= 1 && 10#$1 <= 65535))
}

readonly HOST_LABEL='[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?'
readonly HOSTNAME_RE="^${HOST_LABEL}(\\.${HOST_LABEL})*\\.?$"

is_host_port() {
    local hp=$1 host port
    if [[ $hp =~ ^\[([0-9A-Fa-f:.]+)\]:([0-9]+)$ ]]; then
        host=${BASH_REMATCH[1]}
        port=${BASH_REMATCH[2]}
        [[ $host == *:* ]] || return 1
    elif [[ $hp =~ ^([^:]+):([0-9]+)$ ]]; then
        host=${BASH_REMATCH[1]}
        port=${BASH_REMATCH[2]}
        ((${#host} <= 253)) || return 1
        [[ $host =~ $HOSTNAME_RE ]] || return 1
    else
        return 1
    fi
    is_port "$port"
}

# Strip trailing slashes: /srv/chom/sites/ -> /srv/chom/sites
strip_slashes() {
    local p=$1
    while [[ $p == */ && $p != / ]]; do
        p=${p%/}
    done
    printf '%s' "$p"
}

# validate_dir OPTION PATH — reject relative, odd or shared system paths
# (the directory is chown'ed to the agent user, so /var or /etc must never
# be accepted).
validate_dir() {
    local opt=$1 p=$2 top
    [[ $p == /* ]] || die "$opt must be an absolute path"
    [[ $p =~ ^/[A-Za-z0-9._@+/-]+$ ]] ||
        die "$opt may only contain letters, digits and . _ @ + - /"
    [[ $p != *//* ]] || die "$opt must not contain '//'"
    [[ /$p/ != */./* && /$p/ != */../* ]] || die "$opt must not contain '.' or '..' components"
    [[ $p == /*/* ]] || die "$opt must be at least two levels deep (e.g. /srv/chom/sites): $p"
    top=${p#/}
    top=${top%%/*}
    case $top in
        bin | boot | dev | etc | home | lib | lib32 | lib64 | libx32 | proc | root | run | sbin | sys | tmp | usr)
            die "$opt must not be under /$top: $p"
            ;;
    esac
    case $p in
        /var/lib | /var/log | /var/tmp | /var/cache | /var/spool | /var/mail | /var/www | /var/backups | /var/opt | /var/local | /srv/chom)
            die "$opt must not be the shared directory $p itself; use a subdirectory"
            ;;
    esac
}

[[ -n $COORDINATOR ]] || die "missing required option --coordinator HOST:PORT"
is_host_port "$COORDINATOR" ||
    die "invalid --coordinator '$COORDINATOR': expected HOST:PORT or [IPv6]:PORT with port 1-65535"

[[ -n $TOKEN ]] || die "missing join token: pass --token JOIN_TOKEN or set CHOM_JOIN_TOKEN"
[[ $TOKEN =~ ^[[:graph:]]+$ ]] || die "invalid join token: it must not contain whitespace or control characters"

[[ -n $CA_SHA256 ]] || die "missing required option --ca-sha256 HEX"
CA_SHA256=${CA_SHA256//:/}
[[ $CA_SHA256 =~ ^[0-9A-Fa-f]{64}$ ]] || die "invalid --ca-sha256: expected exactly 64 hexadecimal characters"
CA_SHA256=${CA_SHA256,,}

STATE_DIR=$(strip_slashes "$STATE_DIR")
SITES_ROOT=$(strip_slashes "$SITES_ROOT")
validate_dir --state-dir "$STATE_DIR"
validate_dir --sites-root "$SITES_ROOT"
if [[ $STATE_DIR == "$SITES_ROOT" || $STATE_DIR/ == "$SITES_ROOT"/* || $SITES_ROOT/ == "$STATE_DIR"/* ]]; then
    die "--state-dir and --sites-root must be separate, non-nested directories"
fi

[[ $METRICS_HOST =~ ^[0-9A-Fa-f:.]+$ ]] || die "invalid --metrics-host '$METRICS_HOST': expected an IP address"
is_port "$METRICS_PORT" || die "invalid --metrics-port '$METRICS_PORT': expected an integer 1-65535"
METRICS_PORT=$((10#$METRICS_PORT))
if ((METRICS_PORT < 1024)); then
    warn "--metrics-port $METRICS_PORT is privileged; the agent runs as $AGENT_USER and will not be able to bind it"
fi

if [[ -n $AGENT_NAME ]] && ! [[ $AGENT_NAME =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$ ]]; then
    die "invalid --name: use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit"
fi

if [[ -z $BINARY ]]; then
    BINARY=$SCRIPT_DIR/chom-agent
fi
[[ -f $BINARY ]] || die "agent binary not found: $BINARY (use --binary PATH)"
[[ -r $BINARY ]] || die "agent binary is not readable: $BINARY"
[[ -f $UNIT_SRC ]] || die "unit file not found next to the installer: $UNIT_SRC"

SYSTEMD_RUNNING=0
if [[ -d /run/systemd/system ]]; then
    SYSTEMD_RUNNING=1
fi
if ! grep -q ' - cgroup2 ' /proc/self/mountinfo; then
    warn "no cgroup v2 hierarchy is mounted: the agent will refuse build hooks"
fi

required_cmds=(install useradd groupadd getent setpriv cmp stat mktemp)
if ((SYSTEMD_RUNNING)); then
    required_cmds+=(systemctl)
fi
for cmd in "${required_cmds[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || die "required command not found: $cmd"
done

WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/chom-agent-install.XXXXXX") ||
    die "cannot create a temporary directory"

# ---------------------------------------------------------------------------
# Helpers for (dry-run aware) actions
# ---------------------------------------------------------------------------

# Set when something the running service depends on changed.
CHANGED=0

show_cmd() {
    local out="[dry-run]" a
    for a in "$@"; do
        out+=" $(printf '%q' "$a")"
    done
    printf '%s\n' "$out"
}

# run CMD ARGS... — execute, or only print under --dry-run.
run() {
    if ((DRY_RUN)); then
        show_cmd "$@"
        return 0
    fi
    "$@"
}

# put_file SRC DEST MODE — install SRC as DEST (root:root, MODE) atomically,
# unless DEST already has that content, mode and ownership.
put_file() {
    local src=$1 dest=$2 mode=$3 tmp
    if [[ -f $dest ]] && cmp -s -- "$src" "$dest" &&
        [[ $(stat -c '%a %U %G' -- "$dest") == "${mode#0} root root" ]]; then
        info "unchanged: $dest"
        return 0
    fi
    CHANGED=1
    if ((DRY_RUN)); then
        show_cmd install -m "$mode" -o root -g root -- "$src" "$dest"
        return 0
    fi
    tmp=$(mktemp -- "$(dirname -- "$dest")/.${dest##*/}.XXXXXX") ||
        die "cannot create a temporary file next to $dest"
    TMP_FILES+=("$tmp")
    install -m "$mode" -o root -g root -- "$src" "$tmp" || die "cannot write $dest"
    mv -f -- "$tmp" "$dest" || die "cannot replace $dest"
    info "installed: $dest"
}

# ---------------------------------------------------------------------------
# 1. System user and group
# ---------------------------------------------------------------------------

if ((DRY_RUN)); then
    info "dry run: nothing will be changed"
fi

if getent group "$AGENT_GROUP" >/dev/null; then
    info "group $AGENT_GROUP exists"
else
    run groupadd --system "$AGENT_GROUP" || die "cannot create group $AGENT_GROUP"
    info "created group $AGENT_GROUP"
fi

if getent passwd "$AGENT_USER" >/dev/null; then
    info "user $AGENT_USER exists"
else
    run useradd --system --gid "$AGENT_GROUP" --no-create-home --home-dir "$STATE_DIR" \
        --shell /usr/sbin/nologin --comment "CHOM agent" "$AGENT_USER" ||
        die "cannot create user $AGENT_USER"
    info "created user $AGENT_USER"
fi

# ---------------------------------------------------------------------------
# 2. Directories
# ---------------------------------------------------------------------------

run install -d -m 0700 -o "$AGENT_USER" -g "$AGENT_GROUP" -- "$STATE_DIR" ||
    die "cannot create state directory $STATE_DIR"
run install -d -m 0755 -o "$AGENT_USER" -g "$AGENT_GROUP" -- "$SITES_ROOT" ||
    die "cannot create sites root $SITES_ROOT"
run install -d -m 0755 -o root -g root -- "$CONF_DIR" ||
    die "cannot create $CONF_DIR"

# Site hosting: the agent writes one server block per site into /etc/nginx/chom-sites
# (checked with nginx -t before every reload); nginx's http block includes them through
# conf.d. Debian's nginx and php-fpm packages provide the rest (the agent runs a php-fpm
# master of its own per php site; the distribution's php-fpm service is not needed for them).
if [[ -d /etc/nginx/conf.d ]]; then
    run install -d -m 0755 -o root -g root -- /etc/nginx/chom-sites ||
        die "cannot create /etc/nginx/chom-sites"
    if [[ ! -e /etc/nginx/conf.d/chom-sites.conf ]]; then
        nginx_include="$(mktemp)"
        printf '%s\n' "# Written by the CHOM agent installer: the agent's sites." \
            "server_names_hash_bucket_size 128;" "include /etc/nginx/chom-sites/*.conf;" >"$nginx_include"
        put_file "$nginx_include" /etc/nginx/conf.d/chom-sites.conf 0644
        rm -f "$nginx_include"
    fi
else
    warn "nginx is not installed (apt-get install nginx php-fpm): sites cannot be hosted until it is"
fi

# ---------------------------------------------------------------------------
# 3. Binary
# ---------------------------------------------------------------------------

if [[ $BINARY -ef $BIN_DEST ]]; then
    info "binary already in place: $BIN_DEST"
else
    put_file "$BINARY" "$BIN_DEST" 0755
fi

# ---------------------------------------------------------------------------
# 4. Environment file (read by systemd as root; holds no secrets, still 0600)
# ---------------------------------------------------------------------------

env_tmp=$WORK_DIR/agent.env
cat >"$env_tmp" <<EOF
# Managed by CHOM agent-install/install.sh; re-run the installer to change.
CHOM_AGENT_STATE_DIR=$STATE_DIR
CHOM_AGENT_SITES_ROOT=$SITES_ROOT
CHOM_AGENT_METRICS_PORT=$METRICS_PORT
CHOM_AGENT_METRICS_HOST=$METRICS_HOST
EOF
put_file "$env_tmp" "$ENV_FILE" 0600
if ((DRY_RUN)); then
    sed 's/^/[dry-run]   | /' -- "$env_tmp"
fi

# ---------------------------------------------------------------------------
# 5. Enrollment (as the agent user; token only via CHOM_JOIN_TOKEN)
# ---------------------------------------------------------------------------

IDENTITY_FILE=$STATE_DIR/identity/agent.json
if [[ -f $IDENTITY_FILE ]]; then
    info "already enrolled ($IDENTITY_FILE exists); skipping enrollment"
else
    enroll_cmd=(
        "$BIN_DEST" enroll
        --coordinator "$COORDINATOR"
        --ca-sha256 "$CA_SHA256"
        --state-dir "$STATE_DIR"
        --sites-root "$SITES_ROOT"
        --metrics-port "$METRICS_PORT"
    )
    if [[ -n $AGENT_NAME ]]; then
        enroll_cmd+=(--name "$AGENT_NAME")
    fi
    priv_cmd=(setpriv "--reuid=$AGENT_USER" "--regid=$AGENT_GROUP" --init-groups --)
    if ((DRY_RUN)); then
        printf '[dry-run] CHOM_JOIN_TOKEN=<redacted> HOME=%q %s\n' "$STATE_DIR" \
            "$(show_cmd "${priv_cmd[@]}" "${enroll_cmd[@]}" | sed 's/^\[dry-run\] //')"
    else
        info "enrolling with coordinator $COORDINATOR"
        rc=0
        (
            cd / &&
                CHOM_JOIN_TOKEN=$TOKEN HOME=$STATE_DIR USER=$AGENT_USER LOGNAME=$AGENT_USER \
                    "${priv_cmd[@]}" "${enroll_cmd[@]}"
        ) || rc=$?
        ((rc == 0)) || die "enrollment failed (chom-agent enroll exited with status $rc)"
        [[ -f $IDENTITY_FILE ]] ||
            die "enrollment reported success but $IDENTITY_FILE was not created"
        info "enrolled"
        CHANGED=1
    fi
fi
TOKEN=""

# ---------------------------------------------------------------------------
# 6. systemd unit (+ drop-in when non-default paths need write access)
# ---------------------------------------------------------------------------

put_file "$UNIT_SRC" "$UNIT_DEST" 0644

needs_dropin=0
if [[ $STATE_DIR != "$UNIT_STATE_DIR" ]]; then
    needs_dropin=1
fi
if [[ $SITES_ROOT != "$UNIT_SITES_PARENT"/* ]]; then
    needs_dropin=1
fi
if ((needs_dropin)); then
    dropin_tmp=$WORK_DIR/dropin.conf
    cat >"$dropin_tmp" <<EOF
# Managed by CHOM agent-install/install.sh: non-default directories.
[Service]
ReadWritePaths=$STATE_DIR $SITES_ROOT
EOF
    run install -d -m 0755 -o root -g root -- "$DROPIN_DIR" || die "cannot create $DROPIN_DIR"
    put_file "$dropin_tmp" "$DROPIN_FILE" 0644
    if ((DRY_RUN)); then
        sed 's/^/[dry-run]   | /' -- "$dropin_tmp"
    fi
elif [[ -e $DROPIN_FILE ]]; then
    run rm -f -- "$DROPIN_FILE" || die "cannot remove stale $DROPIN_FILE"
    info "removed: $DROPIN_FILE (default directories in use)"
    CHANGED=1
fi

# ---------------------------------------------------------------------------
# 7. Enable and start
# ---------------------------------------------------------------------------

if ((SYSTEMD_RUNNING == 0 && DRY_RUN == 0)); then
    warn "systemd is not running on this machine; skipping daemon-reload and service start"
    info "done (service not started)"
    exit 0
fi

run systemctl daemon-reload || die "systemctl daemon-reload failed"

if ((NO_START)); then
    info "--no-start given: not enabling the service; start it with: systemctl enable --now $UNIT_NAME"
    info "done"
    exit 0
fi

was_active=0
if ((SYSTEMD_RUNNING)) && systemctl is-active --quiet "$UNIT_NAME"; then
    was_active=1
fi
run systemctl enable --now "$UNIT_NAME" || die "cannot enable/start $UNIT_NAME (see: journalctl -u $UNIT_NAME)"
if ((was_active && CHANGED)); then
    # enable --now does not restart a running service; pick up the new
    # binary, unit or environment.
    run systemctl restart "$UNIT_NAME" || die "cannot restart $UNIT_NAME (see: journalctl -u $UNIT_NAME)"
fi

info "done"
