#!/usr/bin/env bash
# netns-harness.sh — separate "hosts" on one machine: one network namespace per host, a veth
# pair into a bridge of the run, an address of its own in 198.18.0.0/15 (the benchmarking range,
# RFC 2544), and a mount namespace whose /etc is a private copy and whose /run is an empty tmpfs:
# each host has its own user database and runtime files, as separate VPSs do (two agents' site
# users for one site never meet, nor their php-fpm sockets; one host's userdel leaves the other's
# user alone). The rest of the filesystem is shared. For the
# multi-host tests (CHOMTesting's NamespaceHarness) and the demo. Needs root, iproute2 and
# util-linux (nsenter, unshare).
#
# Usage:
#   netns-harness.sh up RUNID N            create the bridge chomh-RUNID and N hosts chomh-RUNID-1..N
#   netns-harness.sh down RUNID            kill every process in the run's namespaces, remove them all
#   netns-harness.sh exec RUNID I -- CMD…  run CMD in host I's network and mount namespaces (nsenter)
#   netns-harness.sh disconnect RUNID I     cut host I off the bridge (its veth down): a network partition
#   netns-harness.sh reconnect RUNID I      put host I back on the bridge
#   netns-harness.sh kill RUNID I           SIGKILL every process in host I's namespace (a host crash)
#   netns-harness.sh status RUNID          print the run's layout (same lines as `up`)
#   netns-harness.sh cleanup-stale         remove what runs whose owner has died left behind
#
# RUNID is 1–6 characters of [a-z0-9] (interface names are at most 15 characters); N is 1–99.
# `up` prints the layout, one line each, for scripts to read:
#   bridge chomh-RUNID 198.18.K.1/24
#   host I chomh-RUNID-I 198.18.K.(10+I)
# The bridge address is the root namespace's (the coordinator and PowerDNS listen there); each
# run gets the lowest free /24 198.18.K.0 (K = 0 when no other run is up; CHOMH_SUBNET=K asks for
# one). A host's namespace has loopback, eth0 with its address, a route to its /24 and no default
# route: nothing it sends can leave the bridge, and no NAT or forwarding is set up.
#
# Ownership: `up` records an owner process (CHOMH_OWNER_PID, default the caller, $PPID) with its
# start time under $CHOMH_STATE_DIR (default /run/chomh). `cleanup-stale` (also run by `up`)
# removes only runs whose owner is gone, so concurrent test processes never remove each other's
# live hosts; a run's state is recorded, under a lock, before anything of it is created.
#
# Example:
#   scripts/netns-harness.sh up demo 3
#   scripts/netns-harness.sh exec demo 1 -- curl -s http://198.18.0.12/
#   scripts/netns-harness.sh down demo
set -euo pipefail

PROG=${0##*/}
readonly PROG
readonly PREFIX=chomh
STATE_ROOT=${CHOMH_STATE_DIR:-/run/chomh}
readonly STATE_ROOT
readonly LOCK_FILE=$STATE_ROOT/.lock
readonly NETNS_DIR=/run/netns

die() {
    printf '%s: error: %s\n' "$PROG" "$*" >&2
    exit 2
}

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
}

check_runid() {
    [[ $1 =~ ^[a-z0-9]{1,6}$ ]] || die "RUNID must be 1-6 characters of [a-z0-9], not '$1'"
}

check_index() {
    [[ $1 =~ ^[1-9][0-9]?$ ]] || die "host index must be 1-99, not '$1'"
}

require_root() {
    [[ $(id -u) -eq 0 ]] || die "needs root (network namespaces, veth, bridge)"
    command -v ip >/dev/null 2>&1 || die "ip (iproute2) is not installed"
    command -v nsenter >/dev/null 2>&1 || die "nsenter (util-linux) is not installed"
    command -v unshare >/dev/null 2>&1 || die "unshare (util-linux) is not installed"
}

# A mount namespace can be bound to a file only on a mount that does not propagate (shared
# propagation would copy the binding into itself): make the state directory a private mount of
# its own when it lies on a shared one (systemd makes / shared).
private_state_root() {
    mkdir -p "$STATE_ROOT"
    local propagation
    propagation=$(findmnt -no PROPAGATION --target "$STATE_ROOT" 2>/dev/null || echo unknown)
    [[ $propagation == private* ]] && return 0
    if ! mountpoint -q "$STATE_ROOT"; then mount --bind "$STATE_ROOT" "$STATE_ROOT"; fi
    mount --make-private "$STATE_ROOT"
}

# The start time of a process (field 22 of /proc/PID/stat), or nothing when it does not exist.
start_time() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    stat=${stat##*) }
    # After the command: state is field 3, so start time (field 22) is word 20.
    local -a fields
    read -r -a fields <<<"$stat"
    printf '%s\n' "${fields[19]}"
}

# Is the run's recorded owner still the same living process?
owner_alive() {
    local file=$STATE_ROOT/$1/owner pid recorded
    [[ -f $file ]] || return 1
    read -r pid recorded <"$file" || return 1
    [[ -n $pid && -n $recorded ]] || return 1
    [[ $(start_time "$pid") == "$recorded" ]]
}

# Every run id that has something on this machine: namespaces, links, state directories.
known_runs() {
    {
        ip netns list 2>/dev/null | awk '{print $1}'
        ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1
        if [[ -d $STATE_ROOT ]]; then
            find "$STATE_ROOT" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sed "s/^/$PREFIX-/"
        fi
    } | sed -n "s/^$PREFIX-\([a-z0-9]\{1,6\}\)\(-[0-9]\{1,2\}\)\{0,1\}$/\1/p" | sort -u
}

with_lock() {
    mkdir -p "$STATE_ROOT"
    exec {lock_fd}>"$LOCK_FILE"
    flock -w 60 "$lock_fd" || die "could not take $LOCK_FILE within 60 s"
    "$@"
    exec {lock_fd}>&-
}

layout() {
    local runid=$1 dir=$STATE_ROOT/$1 subnet hosts i
    [[ -f $dir/subnet && -f $dir/hosts ]] || die "no run '$runid' (nothing recorded in $dir)"
    subnet=$(<"$dir/subnet")
    hosts=$(<"$dir/hosts")
    printf 'bridge %s-%s 198.18.%s.1/24\n' "$PREFIX" "$runid" "$subnet"
    for ((i = 1; i <= hosts; i++)); do
        printf 'host %d %s-%s-%d 198.18.%s.%d\n' "$i" "$PREFIX" "$runid" "$i" "$subnet" $((10 + i))
    done
}

# Kills every process of a namespace (SIGKILL) and waits until none is left (at most ~5 s).
kill_namespace_processes() {
    local ns=$1 pids attempt
    for ((attempt = 0; attempt < 50; attempt++)); do
        pids=$(ip netns pids "$ns" 2>/dev/null || true)
        [[ -z $pids ]] && return 0
        # shellcheck disable=SC2086 # one pid per word
        kill -KILL $pids 2>/dev/null || true
        sleep 0.1
    done
    printf '%s: warning: processes left in %s: %s\n' "$PROG" "$ns" "$pids" >&2
}

remove_run() {
    local runid=$1 ns link
    while read -r ns; do
        [[ -n $ns ]] || continue
        kill_namespace_processes "$ns"
        ip netns delete "$ns" 2>/dev/null || true
    done < <(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$PREFIX-$runid-[0-9]{1,2}$" || true)
    # The hosts' mount namespaces (bound to files) and their /etc copies.
    local mnt
    for mnt in "$STATE_ROOT/$runid"/*.mnt; do
        [[ -e $mnt ]] || continue
        umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
    done
    # Deleting a namespace deletes its veth pair; remove any root-side end and the bridge left anyway.
    while read -r link; do
        [[ -n $link ]] || continue
        ip link delete "$link" 2>/dev/null || true
    done < <(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 \
        | grep -E "^$PREFIX-$runid(-[0-9]{1,2})?$" | sort -r || true)
    rm -rf -- "${STATE_ROOT:?}/$runid"
}

cleanup_stale_locked() {
    local runid
    while read -r runid; do
        [[ -n $runid ]] || continue
        if owner_alive "$runid"; then continue; fi
        printf '%s: removing stale run %s\n' "$PROG" "$runid" >&2
        remove_run "$runid"
    done < <(known_runs)
}

# The lowest /24 (198.18.K.0) no recorded run uses and no interface has an address in.
allocate_subnet_locked() {
    local runid=$1 hosts=$2 owner=$3 k used wanted=${CHOMH_SUBNET:-}
    used=$(
        cat "$STATE_ROOT"/*/subnet 2>/dev/null || true
        ip -4 -o addr show 2>/dev/null | sed -n 's/.* inet 198\.18\.\([0-9]\{1,3\}\)\..*/\1/p'
    )
    if [[ -n $wanted ]]; then
        [[ $wanted =~ ^[0-9]{1,3}$ && $wanted -le 255 ]] || die "CHOMH_SUBNET must be 0-255, not '$wanted'"
        grep -qx "$wanted" <<<"$used" && die "198.18.$wanted.0/24 is in use"
        k=$wanted
    else
        for ((k = 0; k <= 255; k++)); do
            grep -qx "$k" <<<"$used" || break
        done
        ((k <= 255)) || die "no free /24 left in 198.18.0.0/16"
    fi
    [[ -e $STATE_ROOT/$runid ]] && die "run '$runid' exists already (down it first)"
    mkdir -p "$STATE_ROOT/$runid"
    printf '%s %s\n' "$owner" "$(start_time "$owner")" >"$STATE_ROOT/$runid/owner"
    printf '%s\n' "$k" >"$STATE_ROOT/$runid/subnet"
    printf '%s\n' "$hosts" >"$STATE_ROOT/$runid/hosts"
}

# A copy of /etc. useradd and userdel (another agent, another test) briefly leave files such as
# /etc/passwd+ that vanish while cp walks the directory: tried again until a copy is whole.
copy_etc() {
    local target=$1 attempt
    for ((attempt = 1; attempt <= 10; attempt++)); do
        rm -rf -- "$target"
        if cp -a /etc "$target" 2>/dev/null && [[ -s $target/passwd && -s $target/group ]]; then
            return 0
        fi
        sleep 0.2
    done
    die "could not copy /etc to $target"
}

cmd_up() {
    local runid=$1 hosts=$2 owner=${CHOMH_OWNER_PID:-$PPID}
    check_runid "$runid"
    [[ $hosts =~ ^[1-9][0-9]?$ ]] || die "N must be 1-99, not '$hosts'"
    [[ -n $(start_time "$owner") ]] || die "owner process $owner does not exist"
    with_lock cleanup_stale_locked
    with_lock allocate_subnet_locked "$runid" "$hosts" "$owner"
    with_lock private_state_root
    trap 'with_lock remove_run "$runid"' ERR
    local subnet bridge i ns
    subnet=$(<"$STATE_ROOT/$runid/subnet")
    bridge=$PREFIX-$runid
    # No STP and no forwarding delay: a port forwards as soon as it is up.
    ip link add "$bridge" type bridge stp_state 0 forward_delay 0
    sysctl -qw "net.ipv6.conf.$bridge.disable_ipv6=1" 2>/dev/null || true
    ip addr add "198.18.$subnet.1/24" dev "$bridge"
    ip link set "$bridge" up
    for ((i = 1; i <= hosts; i++)); do
        ns=$bridge-$i
        ip netns add "$ns"
        ip link add "$ns" type veth peer name eth0 netns "$ns"
        sysctl -qw "net.ipv6.conf.$ns.disable_ipv6=1" 2>/dev/null || true
        ip link set "$ns" master "$bridge" up
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null || true
        ip -n "$ns" link set lo up
        ip -n "$ns" addr add "198.18.$subnet.$((10 + i))/24" dev eth0
        ip -n "$ns" link set eth0 up
        # Its own /etc (users, groups; a copy bind-mounted over /etc) and its own empty /run
        # (php-fpm sockets, pid files), in a mount namespace of its own.
        copy_etc "$STATE_ROOT/$runid/etc-$i"
        touch "$STATE_ROOT/$runid/$i.mnt"
        # shellcheck disable=SC2016 # $1 and $2 are the inner shell's
        unshare "--mount=$STATE_ROOT/$runid/$i.mnt" --propagation private \
            sh -c 'mount --bind "$1" /etc && mount -t tmpfs -o mode=0755,size=64m "chomh-run-$2" /run' \
            sh "$STATE_ROOT/$runid/etc-$i" "$runid-$i"
    done
    trap - ERR
    layout "$runid"
}

cmd_down() {
    check_runid "$1"
    with_lock remove_run "$1"
}

cmd_exec() {
    local runid=$1 index=$2
    check_runid "$runid"
    check_index "$index"
    shift 2
    [[ ${1:-} == -- ]] && shift
    (($# > 0)) || die "exec needs a command after --"
    ip netns list | awk '{print $1}' | grep -qx "$PREFIX-$runid-$index" || die "no host $PREFIX-$runid-$index"
    # nsenter rather than `ip netns exec`, which would also remount /sys and hide the cgroup tree
    # the agent runs hooks and php-fpm in.
    exec nsenter "--net=$NETNS_DIR/$PREFIX-$runid-$index" "--mount=$STATE_ROOT/$runid/$index.mnt" -- "$@"
}

# The root-side end of host I's veth, which must exist.
host_link() {
    check_runid "$1"
    check_index "$2"
    ip link show "$PREFIX-$1-$2" >/dev/null 2>&1 || die "no host $PREFIX-$1-$2"
    printf '%s\n' "$PREFIX-$1-$2"
}

main() {
    local command=${1:-}
    (($# > 0)) && shift
    case $command in
        up)
            (($# == 2)) || die "usage: $PROG up RUNID N"
            require_root
            cmd_up "$@"
            ;;
        down)
            (($# == 1)) || die "usage: $PROG down RUNID"
            require_root
            cmd_down "$1"
            ;;
        exec)
            (($# >= 3)) || die "usage: $PROG exec RUNID I -- CMD..."
            require_root
            cmd_exec "$@"
            ;;
        disconnect | reconnect)
            (($# == 2)) || die "usage: $PROG $command RUNID I"
            require_root
            local link state=up
            link=$(host_link "$1" "$2")
            [[ $command == disconnect ]] && state=down
            ip link set "$link" "$state"
            ;;
        kill)
            (($# == 2)) || die "usage: $PROG kill RUNID I"
            require_root
            host_link "$1" "$2" >/dev/null
            kill_namespace_processes "$PREFIX-$1-$2"
            ;;
        status)
            (($# == 1)) || die "usage: $PROG status RUNID"
            check_runid "$1"
            layout "$1"
            ;;
        cleanup-stale)
            (($# == 0)) || die "usage: $PROG cleanup-stale"
            require_root
            with_lock cleanup_stale_locked
            ;;
        -h | --help | help)
            usage
            ;;
        *)
            usage >&2
            exit 2
            ;;
    esac
}

main "$@"
