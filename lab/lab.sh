#!/usr/bin/env bash
# A real three-node Docker Swarm on one Linux machine: each node is a dockerd in its own
# network namespace (joined by a host bridge), UTS namespace (its own hostname) and mount
# namespace (its own /var/run/docker, /run/containerd, /etc/docker and /var/lib/docker, like
# a real host).
#
#   bash lab/lab.sh up | down | status | env [NODE] | info | stop-node NODE | start-node NODE | verify
#
# See lab/README.md. Facts this is built on: /work/shared/notes/lab.md.
set -uo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_SH=$LAB_DIR/lab.sh

NODES=(swarm00 swarm01 swarm02)
MANAGER=swarm00
declare -A ADDR=([swarm00]=10.99.0.10 [swarm01]=10.99.0.11 [swarm02]=10.99.0.12)
declare -A ROLE=([swarm00]=manager [swarm01]=worker [swarm02]=worker)
declare -A ZONE=([swarm00]=a [swarm01]=b [swarm02]=c)
SUBNET=10.99.0.0/24
PREFIX_LEN=24
BRIDGE=swlab0

RUN_ROOT=/run/swarm-lab          # sockets, pid files, logs, the nodes' run folders
DATA_ROOT=/var/lib/swarm-lab     # the nodes' --data-root
HOST_STATE=$RUN_ROOT/host.state  # what `up` changed on the host, for `down`
CACHE_DIR=$LAB_DIR/.cache        # image root-fs tarballs, keyed by recipe hash (git-ignored)
NODE_NETNS_DIR=/var/run/docker/netns   # the netns folder as a node's own processes see it

DOCKER=/usr/bin/docker           # Debian's client (NOT /usr/local/bin/docker)
DOCKERD=/usr/sbin/dockerd
APP_IMAGE=swarm-lab/busybox:1
TOOLS_IMAGE=swarm-lab/tools:1
NETWORK=backend
SERVICES=(schemaregistry sourcemysql connect nodeagent)
SR_PORT=8081
FW_COMMENT=swarm-lab
CHECK_JOB=swarm-lab-netns-check
SLEEP_FOREVER=2147483647
APT_PACKAGES=(docker.io busybox-static iptables tcpdump iproute2 conntrack ipvsadm util-linux)

# shellcheck source=lab/images.sh
. "$LAB_DIR/images.sh"

T0=${EPOCHREALTIME/,/.}

# ---------------------------------------------------------------- small helpers
elapsed() { awk -v a="$T0" -v b="${EPOCHREALTIME/,/.}" 'BEGIN { printf "%.1f", b - a }'; }
say() { printf '[lab %6ss] %s\n' "$(elapsed)" "$*"; }
warn() { printf '[lab %6ss] WARNING: %s\n' "$(elapsed)" "$*" >&2; }
die() { echo "lab.sh: $*" >&2; exit 1; }
fail() { printf '[lab %6ss] FAILED: %s\n' "$(elapsed)" "$*" >&2; return 1; }

is_node() { local n; for n in "${NODES[@]}"; do [ "$n" = "${1:-}" ] && return 0; done; return 1; }
sock() { echo "$RUN_ROOT/$1/docker.sock"; }
# docker CLI against one node's engine, ignoring the caller's contexts and TLS settings;
# dkt takes a timeout in seconds, dk uses 60
dkt() {
  local t=$1 n=$2; shift 2
  timeout "$t" env -u DOCKER_CONTEXT -u DOCKER_TLS_VERIFY -u DOCKER_CERT_PATH \
    DOCKER_HOST="unix://$(sock "$n")" "$DOCKER" "$@"
}
dk() { dkt 60 "$@"; }
dkm() { dk "$MANAGER" "$@"; }

require_linux() { [ "$(uname -s)" = Linux ] || die "the lab needs Linux (network namespaces, dockerd); this is $(uname -s)"; }
require_root() { [ "$(id -u)" = 0 ] || die "must run as root (it creates network namespaces, mounts and runs dockerd); try: sudo bash lab/lab.sh ${CMD:-up}"; }

# one lab command at a time (tests may call it concurrently)
take_lock() { exec 9<"$LAB_SH"; flock 9 || die "could not lock $LAB_SH"; }

# process helpers (pids only; never by name)
alive() { # PID -> 0 if it exists and is not a zombie
  local st
  [ -n "${1:-}" ] && [ -r "/proc/$1/stat" ] || return 1
  read -r st <"/proc/$1/stat" 2>/dev/null || return 1
  st=${st##*) }
  [ "${st%% *}" != Z ]
}
comm_of() { cat "/proc/$1/comm" 2>/dev/null; }
wait_gone() { # TIMEOUT_S PID...
  local limit=$1; shift
  local end=$((SECONDS + limit)) p any
  while :; do
    any=
    for p in "$@"; do alive "$p" && any=1; done
    [ -z "$any" ] && return 0
    [ "$SECONDS" -ge "$end" ] && return 1
    sleep 0.2
  done
}
descendants() { # PID... -> those pids and all their descendants
  local -A kids=()
  local f line rest pid ppid
  for f in /proc/[0-9]*/stat; do
    read -r line <"$f" 2>/dev/null || continue
    pid=${line%% *}; rest=${line##*) }; rest=${rest#* }; ppid=${rest%% *}
    kids[$ppid]+=" $pid"
  done
  local -a queue=("$@") out=()
  while [ ${#queue[@]} -gt 0 ]; do
    pid=${queue[0]}; queue=("${queue[@]:1}")
    out+=("$pid")
    # shellcheck disable=SC2206
    [ -n "${kids[$pid]:-}" ] && queue+=(${kids[$pid]})
  done
  printf '%s\n' "${out[@]}" | sort -un
}

dockerd_pid() { # NODE -> pid of its running dockerd, or nothing
  local n=$1 p f
  for f in "$RUN_ROOT/$n/dockerd.pid" "$RUN_ROOT/$n/docker.pid"; do
    [ -r "$f" ] || continue
    read -r p <"$f" 2>/dev/null || continue
    if alive "$p" && [ "$(comm_of "$p")" = dockerd ]; then echo "$p"; return 0; fi
  done
  return 1
}
engine_answers() { dkt 5 "$1" version --format '{{.Server.Version}}' >/dev/null 2>&1; }
netns_exists() { [ -e "/run/netns/$1" ]; }

state_has() { [ -f "$HOST_STATE" ] && grep -qxF "$1" "$HOST_STATE"; }
state_add() { state_has "$1" || echo "$1" >>"$HOST_STATE"; }

# ---------------------------------------------------------------- packages
ensure_packages() {
  local p missing=()
  for p in "${APT_PACKAGES[@]}"; do
    [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" == *"install ok installed"* ]] || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || { fail "missing packages ${missing[*]} and no apt-get"; return 1; }
  say "installing Debian packages: ${missing[*]}"
  # keep the packages' maintainer scripts from starting a host dockerd/containerd
  local prc=/usr/sbin/policy-rc.d backup=
  if [ -e "$prc" ]; then backup=$(mktemp /usr/sbin/policy-rc.d.swarm-lab.XXXXXX); mv "$prc" "$backup"; fi
  printf '#!/bin/sh\nexit 101\n' >"$prc"; chmod 755 "$prc"
  # shellcheck disable=SC2064
  trap "rm -f '$prc'; ${backup:+mv '$backup' '$prc';} exit 130" INT TERM
  local rc=0
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || rc=$?
  if [ $rc -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || rc=$?
  fi
  rm -f "$prc"
  [ -n "$backup" ] && mv "$backup" "$prc"
  trap - INT TERM
  [ $rc -eq 0 ] || { fail "apt-get install ${missing[*]} failed (exit $rc)"; return 1; }
  say "installed ${missing[*]}"
}

# ---------------------------------------------------------------- host side
# iptables backends whose filter table exists (the nft one always; legacy only if loaded —
# running iptables-legacy would otherwise create legacy tables as a side effect).
fw_backends() {
  command -v iptables-nft >/dev/null && echo iptables-nft
  if command -v iptables-legacy >/dev/null && grep -qx filter /proc/net/ip_tables_names 2>/dev/null; then
    echo iptables-legacy
  fi
  if ! command -v iptables-nft >/dev/null && command -v iptables >/dev/null; then echo iptables; fi
}
ensure_forward_rule() {
  local ipt rules policy spec=(FORWARD -i "$BRIDGE" -o "$BRIDGE" -m comment --comment "$FW_COMMENT" -j ACCEPT)
  for ipt in $(fw_backends); do
    rules=$("$ipt" -w -S FORWARD 2>/dev/null) || continue
    grep -q -- "--comment $FW_COMMENT" <<<"$rules" && continue
    policy=$(awk '$1 == "-P" { print $3 }' <<<"$rules")
    # with bridge netfilter on, bridged lab traffic passes the host FORWARD chain: a DROP
    # policy (a host dockerd sets one) or any rule there could drop it
    if [ "$policy" != ACCEPT ] || grep -q '^-A' <<<"$rules" || [ -n "${SWARM_LAB_FORCE_FW_RULE:-}" ]; then
      "$ipt" -w -I "${spec[@]}" || { fail "$ipt -I ${spec[*]} failed"; return 1; }
      state_add "fw $ipt -I ${spec[*]}"
      say "host FORWARD chain ($ipt, policy $policy) needed a rule: added ACCEPT for $BRIDGE"
    fi
  done
  return 0
}
remove_forward_rules() {
  local ipt line
  for ipt in $(fw_backends); do
    while read -r line; do
      [ -n "$line" ] || continue
      # shellcheck disable=SC2086
      "$ipt" -w -D ${line#-A } && say "removed host rule ($ipt): $line"
    done < <("$ipt" -w -S FORWARD 2>/dev/null | grep -- "--comment $FW_COMMENT")
  done
}

# a folder the nodes bind over in their mount namespaces must exist on the host
ensure_mountpoint_dir() {
  [ -d "$1" ] && return 0
  mkdir -p "$1" && state_add "created-dir $1"
}

# no IPv6 on the lab links (no router solicitations etc.; the lab is IPv4 only)
no_ipv6() { [ -w "/proc/sys/net/ipv6/conf/$1/disable_ipv6" ] && echo 1 >"/proc/sys/net/ipv6/conf/$1/disable_ipv6"; return 0; }

ensure_host() {
  mkdir -p "$RUN_ROOT" "$DATA_ROOT" || return 1
  touch "$HOST_STATE"
  if ! mountpoint -q /run/netns 2>/dev/null && ! state_has "created-run-netns"; then
    state_add "created-run-netns"   # `ip netns add` mounts /run/netns; `down` undoes it
  fi
  ensure_mountpoint_dir /run/docker || return 1
  ensure_mountpoint_dir /run/containerd || return 1
  ensure_mountpoint_dir /etc/docker || return 1
  ensure_mountpoint_dir /var/lib/docker || return 1

  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge || { fail "cannot create bridge $BRIDGE"; return 1; }
    say "bridge $BRIDGE created"
  fi
  no_ipv6 "$BRIDGE"
  ip link set "$BRIDGE" up || return 1

  local n hv
  for n in "${NODES[@]}"; do
    hv=swlab-$n
    if ! netns_exists "$n"; then
      ip netns add "$n" || { fail "ip netns add $n failed"; return 1; }
    fi
    if ! ip link show "$hv" >/dev/null 2>&1; then
      ip -n "$n" link del eth0 2>/dev/null
      ip link add "$hv" type veth peer name eth0 netns "$n" || { fail "cannot create veth for $n"; return 1; }
    fi
    no_ipv6 "$hv"
    ip link set "$hv" master "$BRIDGE" up || return 1
    nsenter --net="/run/netns/$n" bash -c 'echo 1 >/proc/sys/net/ipv6/conf/eth0/disable_ipv6' 2>/dev/null
    ip -n "$n" link set lo up || return 1
    ip -n "$n" addr replace "${ADDR[$n]}/$PREFIX_LEN" dev eth0 || return 1
    ip -n "$n" link set eth0 up || return 1
    # never a default route: nothing in the lab can reach beyond the lab addresses
    while [ -n "$(ip -n "$n" route show default)" ]; do ip -n "$n" route del default || break; done

    mkdir -p "$RUN_ROOT/$n/docker" "$RUN_ROOT/$n/containerd" "$RUN_ROOT/$n/etc-docker" "$DATA_ROOT/$n" \
             "$DATA_ROOT/hostfs/$n/var/lib/docker" || return 1
    [ -f "$RUN_ROOT/$n/etc-docker/daemon.json" ] || echo '{}' >"$RUN_ROOT/$n/etc-docker/daemon.json"
    # The node's run folder is a shared mount: the node binds it at /var/run/docker in its
    # own mount namespace as a peer, so the netns files dockerd mounts there show up on the
    # host too, and a task's rslave bind of /var/run/docker/netns is allowed.
    if ! mountpoint -q "$RUN_ROOT/$n/docker"; then
      mount --bind "$RUN_ROOT/$n/docker" "$RUN_ROOT/$n/docker" || return 1
    fi
    mount --make-shared "$RUN_ROOT/$n/docker" || return 1
  done
  ensure_forward_rule || return 1
  return 0
}

# ---------------------------------------------------------------- nodes
# Runs inside the node's namespaces (see start_node), then becomes its dockerd (same pid).
node_init() {
  local n=$1 m
  is_node "$n" || { echo "node_init: bad node $n" >&2; exit 2; }
  echo "$n" >/proc/sys/kernel/hostname || exit 1
  # remembered so leftovers (containerd, shims) are found as exactly this node's processes
  readlink /proc/self/ns/mnt >"$RUN_ROOT/$n/mntns"
  # this node's own /var/run/docker (exec-root at its ordinary path), /run/containerd (shim
  # sockets), /etc/docker (daemon.json, key.json) and /var/lib/docker (libnetwork writes the
  # load balancer sandboxes' hosts/resolv.conf to /var/lib/docker/network/files whatever
  # --data-root says; without this the three nodes would share, and leave, that folder)
  mount --rbind "$RUN_ROOT/$n/docker" /run/docker || exit 1
  mount --bind "$RUN_ROOT/$n/containerd" /run/containerd || exit 1
  mount --bind "$RUN_ROOT/$n/etc-docker" /etc/docker || exit 1
  mount --bind "$DATA_ROOT/hostfs/$n/var/lib/docker" /var/lib/docker || exit 1
  # Drop this namespace's copies of the host's shared mounts: the nodes' run folders (the
  # new /run/docker stays a peer of the host's) and /run/netns. A copy would hold other
  # nodes' namespaces alive.
  while read -r m; do
    case "$m" in
      "$RUN_ROOT"/*/docker|/run/netns)
        mount --make-rprivate "$m" && umount -R -l "$m" ;;
    esac
  done < <(findmnt -rn -o TARGET | grep -E "^($RUN_ROOT/[^/]+/docker|/run/netns)\$" | sort -u)
  echo "=== $(date -Is) dockerd for $n starting (pid $$)"
  # dockerd must not hold any descriptor of whoever ran `lab.sh up` (a caller reading our
  # output through a pipe would otherwise wait for dockerd to exit)
  local fd
  for fd in /proc/self/fd/*; do
    fd=${fd##*/}
    [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-" 2>/dev/null
  done
  exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1 \
    "$DOCKERD" \
      --host "unix://$(sock "$n")" \
      --pidfile "$RUN_ROOT/$n/docker.pid" \
      --data-root "$DATA_ROOT/$n" \
      --exec-root /var/run/docker \
      --config-file /etc/docker/daemon.json \
      --containerd-namespace "moby-$n" \
      --containerd-plugins-namespace "plugins.moby-$n" \
      --cgroup-parent "/swarm-lab/$n" \
      --iptables=true --ip-forward=true \
      --swarm-default-advertise-addr "${ADDR[$n]}" \
      --shutdown-timeout 10 \
      --log-level info
}

launch_node() { # NODE: start its dockerd in the background; pid to $RUN_ROOT/NODE/dockerd.pid
  local n=$1 log=$RUN_ROOT/$1/dockerd.log
  rm -f "$RUN_ROOT/$n/docker.pid" "$RUN_ROOT/$n/dockerd.pid"
  # nsenter, unshare and the init script all exec: the pid of this job is dockerd's.
  # (`ip netns exec` would remount /sys and break dockerd: "Devices cgroup isn't mounted".)
  setsid nsenter --net="/run/netns/$n" -- \
    unshare --uts --mount --propagation unchanged -- \
    bash "$LAB_SH" _node-init "$n" </dev/null >>"$log" 2>&1 9<&- &
  echo $! >"$RUN_ROOT/$n/dockerd.pid"
}

wait_engine() { # NODE TIMEOUT
  local n=$1 limit=${2:-60} pid end=$((SECONDS + ${2:-60}))
  read -r pid <"$RUN_ROOT/$n/dockerd.pid" 2>/dev/null
  while :; do
    if engine_answers "$n"; then return 0; fi
    if ! alive "$pid"; then
      fail "dockerd of $n exited; last lines of $RUN_ROOT/$n/dockerd.log:"
      tail -n 15 "$RUN_ROOT/$n/dockerd.log" >&2
      return 1
    fi
    if [ "$SECONDS" -ge "$end" ]; then
      fail "dockerd of $n (pid $pid) did not answer within ${limit}s; see $RUN_ROOT/$n/dockerd.log"
      return 1
    fi
    sleep 0.2
  done
}

start_nodes() { # NODE...: start those not running, wait for their engines
  local n started=()
  for n in "$@"; do
    if dockerd_pid "$n" >/dev/null; then continue; fi
    kill_node_leftovers "$n"
    launch_node "$n"
    started+=("$n")
  done
  [ ${#started[@]} -eq 0 ] && return 0
  say "starting dockerd: ${started[*]}"
  local rc=0
  for n in "${started[@]}"; do
    wait_engine "$n" 90 || rc=1
  done
  [ $rc -eq 0 ] || return 1
  for n in "${started[@]}"; do
    say "$n: engine answers (dockerd pid $(dockerd_pid "$n"), hostname $n, ${ADDR[$n]})"
  done
}

# Processes a node's dockerd left: those in the node's network namespace AND in the mount
# namespace its dockerd was started in (containerd, shims, docker-proxy), plus their
# descendants (task processes). Someone else's process that merely entered the node's
# network namespace is left alone. Without the mount-namespace record (state lost), every
# process in the lab's network namespace counts.
node_procs() { # NODE
  local n=$1 roots=() p mnt=
  netns_exists "$n" || return 0
  [ -r "$RUN_ROOT/$n/mntns" ] && read -r mnt <"$RUN_ROOT/$n/mntns"
  for p in $(ip netns pids "$n" 2>/dev/null); do
    if [ -z "$mnt" ] || [ "$(readlink "/proc/$p/ns/mnt" 2>/dev/null)" = "$mnt" ]; then roots+=("$p"); fi
  done
  [ ${#roots[@]} -eq 0 ] && return 0
  descendants "${roots[@]}"
}

kill_node_leftovers() { # NODE: after its dockerd is gone
  local n=$1 pids=() p
  mapfile -t pids < <(node_procs "$n")
  if [ ${#pids[@]} -gt 0 ]; then
    # orphans of a dockerd that is gone (containerd, shims, task processes): a task's pid 1
    # and the shims ignore SIGTERM, so do not wait long before SIGKILL
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    if ! wait_gone 3 "${pids[@]}"; then
      for p in "${pids[@]}"; do alive "$p" && kill -KILL "$p" 2>/dev/null; done
      wait_gone 5 "${pids[@]}" || warn "$n: processes still there: $(for p in "${pids[@]}"; do alive "$p" && printf '%s(%s) ' "$p" "$(comm_of "$p")"; done)"
    fi
  fi
  # The node's mount namespace is gone now, but the netns files it mounted under its run
  # folder were propagated to the host's copy and would keep those namespaces alive.
  unmount_below "$RUN_ROOT/$n/docker"
  # After a crash the (now empty) netns files stay; nothing can enter them. Remove them, so
  # the folder lists only live namespaces when the node comes back.
  local f
  for f in "$RUN_ROOT/$n/docker/netns"/*; do
    [ -f "$f" ] && ! mountpoint -q "$f" && rm -f "$f"
  done
  return 0
}

unmount_below() { # DIR: unmount everything mounted below DIR (not DIR itself), deepest first
  local d=$1 m
  while read -r m; do
    [ "$m" = "$d" ] && continue
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || warn "cannot unmount $m"
  done < <(findmnt -rn -o TARGET 2>/dev/null | awk -v d="$d/" 'index($0, d) == 1' | sort -r)
}

stop_nodes() { # NODE...: stop gracefully by pid, in parallel; then their leftovers
  local n p pids=() names=()
  for n in "$@"; do
    if p=$(dockerd_pid "$n"); then
      kill -TERM "$p" && pids+=("$p") && names+=("$n:$p")
    fi
  done
  if [ ${#pids[@]} -gt 0 ]; then
    say "stopping dockerd ${names[*]}"
    if ! wait_gone 45 "${pids[@]}"; then
      for p in "${pids[@]}"; do
        alive "$p" && { warn "dockerd pid $p did not stop in 45s; killing it"; kill -KILL "$p"; }
      done
      wait_gone 10 "${pids[@]}"
    fi
  fi
  for n in "$@"; do kill_node_leftovers "$n"; rm -f "$RUN_ROOT/$n/docker.pid" "$RUN_ROOT/$n/dockerd.pid"; done
  # An exited dockerd whose launcher is gone is a zombie until pid 1 reaps it (this
  # machine's init does that only every second or two): wait, so `pgrep dockerd` is clean.
  local end=$((SECONDS + 10))
  for p in "${pids[@]}"; do
    while [ -e "/proc/$p" ] && [ "$SECONDS" -lt "$end" ]; do sleep 0.2; done
  done
}

# ---------------------------------------------------------------- swarm
node_state() { dk "$1" info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null; }
node_id() { dk "$1" info --format '{{.Swarm.NodeID}}' 2>/dev/null; }

ensure_swarm() {
  local -A st=() nid=()
  local n line
  # one `docker info` per node, in parallel (each CLI start costs ~0.2 s here)
  while read -r n line; do
    st[$n]=${line%% *}; nid[$n]=${line#* }
  done < <(for n in "${NODES[@]}"; do
             ( echo "$n $(dk "$n" info --format '{{.Swarm.LocalNodeState}} {{.Swarm.NodeID}}' 2>/dev/null)" ) &
           done; wait)
  if [ "${st[$MANAGER]:-}" != active ]; then
    [ "${st[$MANAGER]:-inactive}" = inactive ] || dkm swarm leave --force >/dev/null 2>&1
    say "swarm init on $MANAGER (${ADDR[$MANAGER]})"
    dkt 60 "$MANAGER" swarm init --advertise-addr "${ADDR[$MANAGER]}" >/dev/null \
      || { fail "swarm init on $MANAGER failed"; return 1; }
    nid[$MANAGER]=$(node_id "$MANAGER")
  fi
  [ "$(dkm info --format '{{.Swarm.ControlAvailable}}' 2>/dev/null)" = true ] \
    || { fail "$MANAGER is in a swarm but not a manager"; return 1; }

  local token mgr_ids id tries joined
  token=$(dkm swarm join-token -q worker) || { fail "cannot read the worker join token"; return 1; }
  mgr_ids=" $(dkm node ls -q | tr '\n' ' ') "
  local -a pend=() jobpids=()
  for n in "${NODES[@]}"; do
    [ "$n" = "$MANAGER" ] && continue
    if [ "${st[$n]:-}" = active ] && [ -n "${nid[$n]:-}" ] && [[ "$mgr_ids" == *" ${nid[$n]} "* ]]; then continue; fi
    pend+=("$n")
  done
  for n in "${pend[@]}"; do
    (
      joined=
      for tries in 1 2 3; do
        [ "$(node_state "$n")" = inactive ] || dk "$n" swarm leave --force >/dev/null 2>&1
        if dkt 45 "$n" swarm join \
             --token "$token" --advertise-addr "${ADDR[$n]}" "${ADDR[$MANAGER]}:2377" >/dev/null 2>"$RUN_ROOT/$n/join.err"; then
          joined=1; break
        fi
        echo "[lab] $n: join attempt $tries failed: $(tr '\n' ' ' <"$RUN_ROOT/$n/join.err")" >&2
      done
      rm -f "$RUN_ROOT/$n/join.err"
      [ -n "$joined" ]
    ) &
    jobpids+=($!)
  done
  # (never `jobs -p`: this shell's dockerd launches are background jobs too)
  local rc=0 j
  for j in "${jobpids[@]}"; do wait "$j" || rc=1; done
  [ $rc -eq 0 ] || { fail "a worker could not join the swarm"; return 1; }
  if [ ${#pend[@]} -gt 0 ]; then
    say "joined ${pend[*]} to the swarm"
    for n in "${pend[@]}"; do nid[$n]=$(node_id "$n"); done
  fi

  # forget stale entries (a node that left and joined again shows up twice)
  local want_ids=" " sid shost sstate
  for n in "${NODES[@]}"; do want_ids+="${nid[$n]} "; done
  while read -r sid shost sstate; do
    [ -n "$sid" ] || continue
    if [[ "$want_ids" != *" $sid "* ]]; then
      dkm node rm --force "$sid" >/dev/null 2>&1 && say "removed stale node entry $shost ($sid, $sstate)"
    fi
  done < <(dkm node ls --format '{{.ID}} {{.Hostname}} {{.Status}}')

  wait_nodes_ready 60 || return 1

  # labels: zone=a/b/c, role=db on swarm02
  local -A have=()
  while read -r id line; do have[$id]=" $line "; done \
    < <(dkm node inspect --format '{{.ID}} {{range $k, $v := .Spec.Labels}}{{$k}}={{$v}} {{end}}' "${nid[@]}")
  local l want args
  for n in "${NODES[@]}"; do
    want="zone=${ZONE[$n]}"
    [ "$n" = swarm02 ] && want+=" role=db"
    args=()
    for l in $want; do [[ "${have[${nid[$n]}]:-}" == *" $l "* ]] || args+=(--label-add "$l"); done
    if [ ${#args[@]} -gt 0 ]; then dkm node update "${args[@]}" "${nid[$n]}" >/dev/null || return 1; fi
  done
  return 0
}

wait_nodes_ready() { # TIMEOUT
  local end=$((SECONDS + $1)) out bad n
  while :; do
    out=$(dkm node ls --format '{{.Hostname}} {{.Status}} {{.Availability}}' 2>/dev/null)
    bad=
    for n in "${NODES[@]}"; do grep -qx "$n Ready Active" <<<"$out" || bad+=" $n"; done
    [ -z "$bad" ] && return 0
    if [ "$SECONDS" -ge "$end" ]; then
      fail "nodes not Ready/Active after $1s:$bad"; echo "$out" >&2; return 1
    fi
    sleep 0.5
  done
}

# ---------------------------------------------------------------- images
image_tarballs() { # -> sets APP_TAR TOOLS_TAR, building them if the recipe changed
  local h
  h=$(image_recipe_hash)
  IMAGE_HASH=$h
  APP_TAR=$CACHE_DIR/app-$h.tar
  TOOLS_TAR=$CACHE_DIR/tools-$h.tar
  [ -s "$APP_TAR" ] && [ -s "$TOOLS_TAR" ] && return 0
  mkdir -p "$CACHE_DIR" || return 1
  find "$CACHE_DIR" -maxdepth 1 \( -name 'app-*.tar' -o -name 'tools-*.tar' -o -name 'rootfs.*' \) -exec rm -rf {} + 2>/dev/null
  local r
  r=$(mktemp -d "$CACHE_DIR/rootfs.XXXXXX") || return 1
  say "building image root file systems (recipe $h)"
  mkdir "$r/app" "$r/tools"
  ( set -e; build_app_rootfs "$r/app" ) || { rm -rf "$r"; fail "building the app image root fs failed"; return 1; }
  ( set -e; build_tools_rootfs "$r/tools" ) || { rm -rf "$r"; fail "building the tools image root fs failed"; return 1; }
  tar --numeric-owner -C "$r/app" -cf "$APP_TAR.tmp" . && mv "$APP_TAR.tmp" "$APP_TAR" || return 1
  tar --numeric-owner -C "$r/tools" -cf "$TOOLS_TAR.tmp" . && mv "$TOOLS_TAR.tmp" "$TOOLS_TAR" || return 1
  rm -rf "$r"
}

image_current() { # NODE IMAGE
  [ "$(dk "$1" image inspect --format '{{index .Config.Labels "swarm-lab.recipe"}}' "$2" 2>/dev/null)" = "$IMAGE_HASH" ]
}

ensure_images() {
  image_tarballs || return 1
  local n todo=()
  for n in "${NODES[@]}"; do
    image_current "$n" "$APP_IMAGE" && image_current "$n" "$TOOLS_IMAGE" || todo+=("$n")
  done
  [ ${#todo[@]} -eq 0 ] && return 0
  say "importing $APP_IMAGE and $TOOLS_IMAGE on ${todo[*]} (in the background while the swarm forms)"
  local jobpids=()
  for n in "${todo[@]}"; do
    (
      image_current "$n" "$APP_IMAGE" || dk "$n" import \
        -c 'ENV PATH=/bin:/usr/bin:/sbin:/usr/sbin' -c "LABEL swarm-lab.recipe=$IMAGE_HASH" -c 'CMD ["sh"]' \
        "$APP_TAR" "$APP_IMAGE" >/dev/null || exit 1
      image_current "$n" "$TOOLS_IMAGE" || dk "$n" import \
        -c 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' -c "LABEL swarm-lab.recipe=$IMAGE_HASH" -c 'CMD ["sh"]' \
        "$TOOLS_TAR" "$TOOLS_IMAGE" >/dev/null || exit 1
    ) &
    jobpids+=($!)
  done
  local rc=0 j
  for j in "${jobpids[@]}"; do wait "$j" || rc=1; done
  [ $rc -eq 0 ] || { fail "docker import failed"; return 1; }
  for n in "${NODES[@]}"; do
    image_current "$n" "$APP_IMAGE" && image_current "$n" "$TOOLS_IMAGE" || { fail "images missing on $n after import"; return 1; }
  done
}

# ---------------------------------------------------------------- network and services
ensure_network() {
  local drv
  drv=$(dkm network inspect --format '{{.Driver}}/{{.Scope}}/{{.Attachable}}' "$NETWORK" 2>/dev/null)
  [ "$drv" = overlay/swarm/true ] && return 0
  [ -n "$drv" ] && { fail "network $NETWORK exists but is $drv (want overlay/swarm/attachable)"; return 1; }
  dkm network create --driver overlay --attachable "$NETWORK" >/dev/null || { fail "cannot create network $NETWORK"; return 1; }
  say "overlay network $NETWORK created"
}

service_args() { # NAME -> prints nothing; sets SVC_ARGS
  local common=(--detach --no-resolve-image --network "$NETWORK" --endpoint-mode dnsrr
                --stop-grace-period 1s --label swarm-lab=1)
  case "$1" in
    schemaregistry) SVC_ARGS=(--name schemaregistry "${common[@]}" --replicas 1
        --constraint node.hostname==swarm00
        --publish "mode=host,target=$SR_PORT,published=$SR_PORT,protocol=tcp"
        "$APP_IMAGE" httpd -f -v -p "$SR_PORT" -h /www) ;;
    sourcemysql) SVC_ARGS=(--name sourcemysql "${common[@]}" --replicas 1
        --constraint node.hostname==swarm02 "$APP_IMAGE" sleep "$SLEEP_FOREVER") ;;
    connect) SVC_ARGS=(--name connect "${common[@]}" --replicas 1
        --constraint node.hostname==swarm01 "$APP_IMAGE" sleep "$SLEEP_FOREVER") ;;
    nodeagent) SVC_ARGS=(--name nodeagent "${common[@]}" --mode global "$APP_IMAGE" sleep "$SLEEP_FOREVER") ;;
  esac
}
expected_replicas() { case "$1" in nodeagent) echo ${#NODES[@]} ;; *) echo 1 ;; esac; }

ensure_services() {
  local s created=() have pids=() rc=0 p
  have=" $(dkm service ls --format '{{.Name}}' 2>/dev/null | tr '\n' ' ') "
  for s in "${SERVICES[@]}"; do
    [[ "$have" == *" $s "* ]] && continue
    service_args "$s"
    dkm service create "${SVC_ARGS[@]}" >/dev/null &
    pids+=($!); created+=("$s")
  done
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  [ $rc -eq 0 ] || { fail "docker service create failed (${created[*]})"; return 1; }
  [ ${#created[@]} -gt 0 ] && say "services created: ${created[*]}"
  return 0
}

services_converged() { # -> 0 if every lab service runs all its tasks; else prints what is not
  local out s want got bad=()
  out=$(dkm service ls --format '{{.Name}} {{.Replicas}}' 2>/dev/null) || { echo "(manager does not answer)"; return 1; }
  for s in "${SERVICES[@]}"; do
    want=$(expected_replicas "$s")
    got=$(awk -v s="$s" '$1 == s { print $2 }' <<<"$out")
    [ "$got" = "$want/$want" ] || bad+=("$s(${got:-missing})")
  done
  [ ${#bad[@]} -eq 0 ] && return 0
  echo "${bad[*]}"; return 1
}

wait_services() { # TIMEOUT
  local end=$((SECONDS + $1)) bad s
  while :; do
    bad=$(services_converged) && return 0
    if [ "$SECONDS" -ge "$end" ]; then
      fail "not all service tasks running after $1s: $bad"
      for s in "${SERVICES[@]}"; do
        dkm service ps --no-trunc --format '  {{.Name}} on {{.Node}}: {{.CurrentState}} {{.Error}}' "$s" 2>&1 | head -n 4 >&2
      done
      return 1
    fi
    sleep 0.5
  done
}

# ---------------------------------------------------------------- verification
task_addr() { # SERVICE -> overlay address (no prefix) on $NETWORK of its first running task
  local t
  t=$(dkm service ps -q --filter desired-state=running "$1" 2>/dev/null | head -n 1)
  [ -n "$t" ] || return 1
  dkm inspect --format "{{range .NetworksAttachments}}{{if eq .Network.Spec.Name \"$NETWORK\"}}{{range .Addresses}}{{.}} {{end}}{{end}}{{end}}" "$t" 2>/dev/null \
    | awk '{ sub("/.*", "", $1); print $1 }'
}
task_container() { # NODE SERVICE -> id of its running container on that node
  dk "$1" ps -q --filter "label=com.docker.swarm.service.name=$2" --filter status=running 2>/dev/null | head -n 1
}

verify_datapath() {
  local ip= cid= page=
  # (not wget -T: Debian's busybox-static 1.35 wget segfaults with -T; use timeout)
  # Retried for 45 s: right after a node restart its tasks are being replaced (the manager
  # may still count the old one), and overlay peers take a moment to learn the new ones.
  local end=$((SECONDS + 45))
  while :; do
    ip=$(task_addr schemaregistry); cid=$(task_container swarm02 sourcemysql)
    if [ -n "$ip" ] && [ -n "$cid" ]; then
      page=$(dkt 20 swarm02 exec "$cid" timeout 5 wget -qO- "http://$ip:$SR_PORT/" 2>&1)
      [[ "$page" == *"$APP_PAGE"* ]] && break
    fi
    if [ "$SECONDS" -ge "$end" ]; then
      [ -n "$ip" ] || { fail "no overlay address for a running schemaregistry task"; return 1; }
      [ -n "$cid" ] || { fail "no running sourcemysql container on swarm02"; return 1; }
      fail "overlay data path: sourcemysql on swarm02 could not fetch http://$ip:$SR_PORT/ from schemaregistry on swarm00: $page"
      return 1
    fi
    sleep 1
  done
  say "data path ok: sourcemysql (swarm02) -> schemaregistry $ip:$SR_PORT (swarm00) over overlay $NETWORK"
}

verify_tools() {
  local cid out
  cid=$(task_container swarm02 sourcemysql)
  local sr_ip; sr_ip=$(task_addr schemaregistry)
  # every tool must run inside a task's namespace (tcpdump as Debian's default user tcpdump,
  # writing a file to /tmp; ipvsadm must say clearly that this kernel has no IPVS)
  out=$(dkt 60 swarm02 run --rm \
        --net "container:$cid" --cap-add NET_ADMIN --cap-add NET_RAW "$TOOLS_IMAGE" sh -c '
    ok() { if "$@" >/dev/null 2>/tmp/err; then echo "ok   $*"; else echo "FAIL $*: $(head -c 200 /tmp/err)"; fi; }
    ok iptables -S; ok iptables-save; ok iptables-nft -nvL; ok ip6tables -S
    ok iptables -t nat -S; ok iptables -t mangle -S
    ok ip -o addr; ok ip route; ok ip rule; ok ip neigh; ok bridge fdb show; ok bridge link
    ok ss -tanp; ok conntrack -L; ok nsenter --version; ok tcpdump -D
    if ipvsadm -Ln >/tmp/ipvs 2>&1; then echo "ok   ipvsadm -Ln"
    elif grep -q "Protocol not available" /tmp/ipvs; then echo "ok   ipvsadm -Ln (IPVS absent in this kernel)"
    else echo "FAIL ipvsadm -Ln: $(head -c 200 /tmp/ipvs)"; fi
    (sleep 0.3; ping -c 3 -i 0.2 -W 1 '"$sr_ip"' >/dev/null 2>&1) &
    timeout 10 tcpdump -i any -nn -c 2 -w /tmp/t.pcap icmp 2>/tmp/err
    if [ -s /tmp/t.pcap ]; then echo "ok   tcpdump -i any -w /tmp/t.pcap ($(wc -c </tmp/t.pcap) bytes, file owner $(stat -c %U /tmp/t.pcap))"
    else echo "FAIL tcpdump -w: $(head -c 200 /tmp/err)"; fi
    wait
  ' 2>&1)
  if grep -q '^FAIL' <<<"$out" || ! grep -q '^ok   tcpdump' <<<"$out"; then
    fail "tools image check in the sourcemysql task namespace on swarm02:"; echo "$out" >&2; return 1
  fi
  # iptables-legacy in a throwaway namespace: reading legacy tables instantiates them, and a
  # task's namespace should stay as the engine made it
  local legacy
  legacy=$(dkt 30 swarm02 run --rm --network none --cap-add NET_ADMIN "$TOOLS_IMAGE" \
           sh -c 'iptables-legacy -S && iptables-legacy-save >/dev/null && ip6tables-legacy -S >/dev/null' 2>&1) \
    || { fail "iptables-legacy in the tools image: $legacy"; return 1; }
  say "tools ok in a task namespace: $(grep -c '^ok' <<<"$out") commands (iptables nft+legacy, ip, bridge, ss, conntrack, ipvsadm, tcpdump, nsenter); $(grep -o 'file owner [a-z0-9]*' <<<"$out" | sed 's/file owner/tcpdump wrote its file as/')"
}

verify_netns_folder() {
  local ip st end logs
  ip=$(task_addr sourcemysql) && [ -n "$ip" ] || { fail "no overlay address for sourcemysql"; return 1; }
  dkm service rm "$CHECK_JOB" >/dev/null 2>&1
  dkm service create --detach --no-resolve-image --name "$CHECK_JOB" --mode replicated-job \
      --restart-condition none --constraint node.hostname==swarm02 \
      --mount "type=bind,source=$NODE_NETNS_DIR,target=/netns,bind-propagation=rslave" \
      --cap-add SYS_ADMIN --cap-add NET_ADMIN --label swarm-lab=1 \
      "$TOOLS_IMAGE" sh -c 'ls /netns; for f in /netns/*; do echo "== $f"; nsenter --net="$f" ip -o -4 addr show; done' \
      >/dev/null || { fail "cannot create the $CHECK_JOB job"; return 1; }
  end=$((SECONDS + 60))
  while :; do
    st=$(dkm service ps --format '{{.CurrentState}}' "$CHECK_JOB" 2>/dev/null | head -n 1)
    case "$st" in Complete*|Failed*|Rejected*) break ;; esac
    if [ "$SECONDS" -ge "$end" ]; then break; fi
    sleep 0.3
  done
  logs=
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    logs=$(dkt 20 "$MANAGER" service logs --raw "$CHECK_JOB" 2>&1)
    grep -q "inet $ip/" <<<"$logs" && break
    sleep 0.5
  done
  local err; err=$(dkm service ps --no-trunc --format '{{.Error}}' "$CHECK_JOB" 2>/dev/null | head -n 1)
  dkm service rm "$CHECK_JOB" >/dev/null 2>&1
  if ! grep -q "inet $ip/" <<<"$logs"; then
    fail "netns folder: a job on swarm02 with $NODE_NETNS_DIR bound rslave did not see sourcemysql's namespace ($ip); state: $st $err"
    echo "$logs" | head -n 20 >&2
    return 1
  fi
  say "netns folder ok: a replicated-job on swarm02 (bind $NODE_NETNS_DIR rslave) listed $(grep -c '^== ' <<<"$logs") namespaces and entered sourcemysql's ($ip)"
  # and the host sees the same files under the node's run folder
  local f found=
  for f in "$RUN_ROOT/swarm02/docker/netns"/*; do
    # (no `| grep -q` under pipefail: grep leaving early can fail the pipeline)
    if [[ "$(nsenter --net="$f" ip -o -4 addr show 2>/dev/null)" == *"inet $ip/"* ]]; then found=$f; break; fi
  done
  if [ -n "$found" ]; then
    say "netns folder on the host: $RUN_ROOT/swarm02/docker/netns (sourcemysql is ${found##*/})"
  else
    warn "the host does not see swarm02's namespaces under $RUN_ROOT/swarm02/docker/netns"
  fi
}

verify_all() {
  verify_datapath || return 1
  verify_tools || return 1
  verify_netns_folder || return 1
}

# ---------------------------------------------------------------- health
lab_healthy() { # quiet; 0 if everything `up` builds is there and running (few CLI calls:
  local n             # each docker CLI start costs ~0.2 s here)
  ip link show "$BRIDGE" >/dev/null 2>&1 || return 1
  for n in "${NODES[@]}"; do
    netns_exists "$n" || return 1
    dockerd_pid "$n" >/dev/null || return 1
  done
  local out
  out=$(dkt 10 "$MANAGER" node ls --format '{{.Hostname}} {{.Status}} {{.Availability}}' 2>/dev/null) || return 1
  [ "$(wc -l <<<"$out")" -eq ${#NODES[@]} ] || return 1
  for n in "${NODES[@]}"; do grep -qx "$n Ready Active" <<<"$out" || return 1; done
  IMAGE_HASH=$(image_recipe_hash)
  local -a pids=()
  for n in "${NODES[@]}"; do
    (
      imgs=$(dkt 10 "$n" images --filter "label=swarm-lab.recipe=$IMAGE_HASH" --format '{{.Repository}}:{{.Tag}}' 2>/dev/null)
      grep -qx "$APP_IMAGE" <<<"$imgs" && grep -qx "$TOOLS_IMAGE" <<<"$imgs"
    ) &
    pids+=($!)
  done
  local rc=0 p
  [ "$(dkt 10 "$MANAGER" network inspect --format '{{.Driver}}' "$NETWORK" 2>/dev/null)" = overlay ] || rc=1
  [ $rc -eq 0 ] && { services_converged >/dev/null || rc=1; }
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  return $rc
}

lab_present() { # anything of the lab on this machine?
  local n
  [ -d "$RUN_ROOT" ] || [ -d "$DATA_ROOT" ] || ip link show "$BRIDGE" >/dev/null 2>&1 && return 0
  for n in "${NODES[@]}"; do netns_exists "$n" && return 0; done
  return 1
}

# ---------------------------------------------------------------- commands
do_up() {
  ensure_host || return 1
  say "host: bridge $BRIDGE, namespaces ${NODES[*]} ($SUBNET, no default route)"
  start_nodes "${NODES[@]}" || return 1
  # images do not depend on the swarm: import them while it forms
  local img_log img_pid
  img_log=$(mktemp "$RUN_ROOT/images.XXXXXX")
  ensure_images >"$img_log" 2>&1 &
  img_pid=$!
  if ! ensure_swarm; then wait "$img_pid"; cat "$img_log"; rm -f "$img_log"; return 1; fi
  say "swarm: $(dkm node ls --format '{{.Hostname}}={{.Status}}' | tr '\n' ' ')"
  local img_rc=0
  wait "$img_pid" || img_rc=1
  cat "$img_log"; rm -f "$img_log"
  [ $img_rc -eq 0 ] || return 1
  ensure_network || return 1
  ensure_services || return 1
  wait_services 120 || return 1
  local s list=
  for s in "${SERVICES[@]}"; do list+=" $s $(expected_replicas "$s")/$(expected_replicas "$s")"; done
  say "all service tasks running:$list"
  verify_all || return 1
}

cmd_up() {
  require_linux; require_root; take_lock
  if lab_healthy; then
    say "lab is already up and healthy (${NODES[*]}; services ${SERVICES[*]})"
    return 0
  fi
  ensure_packages || exit 1
  local repair=
  if lab_present; then repair=1; say "lab is partly up; repairing"; fi
  if ! do_up; then
    if [ -n "$repair" ]; then
      say "repair failed; tearing down and building from scratch"
      do_down
      do_up || { say "lab up FAILED after $(elapsed)s"; exit 1; }
    else
      say "lab up FAILED after $(elapsed)s (run 'bash lab/lab.sh down' to clean up)"; exit 1
    fi
  fi
  say "lab is up in $(elapsed)s"
}

do_down() {
  local n
  stop_nodes "${NODES[@]}"
  for n in "${NODES[@]}"; do
    if netns_exists "$n"; then ip netns del "$n" || warn "ip netns del $n failed"; fi
    ip link del "swlab-$n" 2>/dev/null
  done
  ip link del "$BRIDGE" 2>/dev/null
  remove_forward_rules
  # everything we mounted: the nodes' shared run folders (and anything left below them)
  local m
  while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || warn "cannot unmount $m"
  done < <(findmnt -rn -o TARGET 2>/dev/null | grep -E "^($RUN_ROOT|$DATA_ROOT)(/|\$)" | sort -r)
  if state_has created-run-netns && mountpoint -q /run/netns && [ -z "$(ls -A /run/netns 2>/dev/null)" ]; then
    umount /run/netns 2>/dev/null || umount -l /run/netns
    rmdir /run/netns 2>/dev/null
  fi
  local d
  if [ -f "$HOST_STATE" ]; then
    while read -r d; do
      d=${d#created-dir }
      [ -d "$d" ] && ! mountpoint -q "$d" && rmdir "$d" 2>/dev/null
    done < <(grep '^created-dir ' "$HOST_STATE" | sort -r)
  fi
  # cgroups the nodes' containers used (--cgroup-parent /swarm-lab/NODE)
  local cg
  for cg in /sys/fs/cgroup/*/swarm-lab /sys/fs/cgroup/swarm-lab; do
    [ -d "$cg" ] || continue
    find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
  # state folders; --one-file-system so nothing still mounted below is touched
  if [ -n "$(findmnt -rn -o TARGET | grep -E "^($RUN_ROOT|$DATA_ROOT)(/|\$)")" ]; then
    warn "mounts remain below $RUN_ROOT or $DATA_ROOT; not deleting them"
    return 1
  fi
  rm -rf --one-file-system "$RUN_ROOT" "$DATA_ROOT"
  # `ip netns add` made /run/netns (a shared bind mount of itself); once no namespace is left in
  # it, it goes too. A /run/netns still holding others' namespaces is left alone.
  if [ -d /run/netns ] && [ -z "$(ls -A /run/netns 2>/dev/null)" ]; then
    for _ in 1 2 3 4 5; do mountpoint -q /run/netns && umount /run/netns 2>/dev/null || break; done
    rmdir /run/netns 2>/dev/null || true
  fi
  return 0
}

cmd_down() {
  require_linux; require_root; take_lock
  # A fault injected by lab/faults.sh outside the nodes (a host raw-table rule) goes with the lab.
  bash "$(dirname "${BASH_SOURCE[0]}")/faults.sh" vxlan-drop off 2>/dev/null || true
  if ! lab_present; then say "lab is not up; nothing to do"; return 0; fi
  do_down || { say "lab down finished with warnings after $(elapsed)s"; exit 1; }
  say "lab is down ($(elapsed)s)"
}

cmd_status() {
  require_linux; require_root
  local n pid ok=0 st
  printf '%-8s %-8s %-11s %-5s %-8s %s\n' NODE ROLE ADDRESS STATE PID SWARM
  for n in "${NODES[@]}"; do
    if pid=$(dockerd_pid "$n"); then
      st=$(node_state "$n"); [ -n "$st" ] || { st="(engine does not answer)"; ok=1; }
      [ "$st" = active ] || ok=1
      printf '%-8s %-8s %-11s %-5s %-8s %s\n' "$n" "${ROLE[$n]}" "${ADDR[$n]}" up "$pid" "$st"
    else
      printf '%-8s %-8s %-11s %-5s %-8s %s\n' "$n" "${ROLE[$n]}" "${ADDR[$n]}" down - -
      ok=1
    fi
  done
  echo
  if dockerd_pid "$MANAGER" >/dev/null && engine_answers "$MANAGER"; then
    echo "docker node ls (on $MANAGER):"
    dkm node ls 2>&1 | sed 's/^/  /'
    echo
    echo "docker service ls:"
    dkm service ls 2>&1 | sed 's/^/  /'
    local bad
    if ! bad=$(services_converged); then echo; echo "not converged: $bad"; ok=1; fi
    local out
    out=$(dkm node ls --format '{{.Hostname}} {{.Status}} {{.Availability}}' 2>/dev/null)
    for n in "${NODES[@]}"; do grep -qx "$n Ready Active" <<<"$out" || ok=1; done
  else
    echo "manager $MANAGER is not answering"
    ok=1
  fi
  echo
  if [ $ok -eq 0 ]; then echo "lab: healthy"; else echo "lab: NOT healthy"; fi
  return $ok
}

cmd_env() {
  local n=${1:-$MANAGER}
  is_node "$n" || die "unknown node '$n' (nodes: ${NODES[*]})"
  echo "export DOCKER_HOST=unix://$(sock "$n")"
  echo "unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH"
  # For swarm-doctor: the lab's tools image, and each node's own engine for the direct transport.
  local endpoints="" m
  for m in "${NODES[@]}"; do endpoints+="${endpoints:+,}$m=unix://$(sock "$m")"; done
  echo "export SWARM_DOCTOR_HELPER_IMAGE=$TOOLS_IMAGE"
  echo "export SWARM_DOCTOR_NODE_ENDPOINTS=$endpoints"
}

json_str() { if [ -n "${1:-}" ]; then printf '"%s"' "$1"; else printf null; fi; }

cmd_info() {
  local n pid first=1 netns_dir labels
  printf '{"nodes":['
  for n in "${NODES[@]}"; do
    pid=$(dockerd_pid "$n" 2>/dev/null) || pid=
    netns_dir=
    mountpoint -q "$RUN_ROOT/$n/docker" 2>/dev/null && netns_dir=$RUN_ROOT/$n/docker/netns
    labels="\"zone\":\"${ZONE[$n]}\""
    [ "$n" = swarm02 ] && labels+=',"role":"db"'
    [ -n "$first" ] || printf ','
    first=
    printf '{"name":"%s","role":"%s","address":"%s","socket":"%s","dockerHost":"unix://%s","netnsDir":%s,"nodeNetnsDir":"%s","netns":"%s","netnsPath":"/var/run/netns/%s","execRoot":"/var/run/docker","hostExecRoot":"%s","dataRoot":"%s","log":"%s","pid":%s,"labels":{%s}}' \
      "$n" "${ROLE[$n]}" "${ADDR[$n]}" "$(sock "$n")" "$(sock "$n")" "$(json_str "$netns_dir")" "$NODE_NETNS_DIR" \
      "$n" "$n" "$RUN_ROOT/$n/docker" "$DATA_ROOT/$n" "$RUN_ROOT/$n/dockerd.log" "${pid:-null}" "$labels"
  done
  local ipvs=false; [ -d /proc/sys/net/ipv4/vs ] && ipvs=true
  printf '],"manager":"%s","toolsImage":"%s","appImage":"%s","network":"%s","bridge":"%s","subnet":"%s","ipvs":%s,' \
    "$MANAGER" "$TOOLS_IMAGE" "$APP_IMAGE" "$NETWORK" "$BRIDGE" "$SUBNET" "$ipvs"
  printf '"services":["%s"],"schemaregistry":{"port":%s,"page":"%s","node":"swarm00"}}\n' \
    "$(IFS=,; echo "${SERVICES[*]}" | sed 's/,/","/g')" "$SR_PORT" "$APP_PAGE"
}

cmd_stop_node() {
  local n=${1:-}
  is_node "$n" || die "usage: lab.sh stop-node NODE (nodes: ${NODES[*]})"
  require_linux; require_root; take_lock
  local pid
  if ! pid=$(dockerd_pid "$n"); then
    kill_node_leftovers "$n"
    say "$n is already stopped"; return 0
  fi
  stop_nodes "$n"
  say "$n stopped (dockerd pid $pid) in $(elapsed)s"
}

cmd_start_node() {
  local n=${1:-}
  is_node "$n" || die "usage: lab.sh start-node NODE (nodes: ${NODES[*]})"
  require_linux; require_root; take_lock
  netns_exists "$n" && [ -d "$RUN_ROOT/$n" ] && [ -d "$DATA_ROOT/$n" ] || die "the lab is not up (no namespace/state for $n); run: bash lab/lab.sh up"
  local pid
  if pid=$(dockerd_pid "$n"); then
    engine_answers "$n" || wait_engine "$n" 60 || exit 1
    say "$n is already running (dockerd pid $pid)"; return 0
  fi
  start_nodes "$n" || exit 1
  # It rejoins the swarm by itself (its swarm state is in its data-root). Give it a moment
  # to be active and, if the manager answers, Ready there; its tasks restart after that.
  local end=$((SECONDS + 30)) st ready=
  while :; do
    st=$(node_state "$n")
    if [ "$st" = active ]; then
      if [ "$n" = "$MANAGER" ] || ! engine_answers "$MANAGER"; then break; fi
      ready=$(dkt 5 "$MANAGER" node ls --format '{{.Hostname}} {{.Status}}' 2>/dev/null | awk -v n="$n" '$1 == n { print $2 }')
      [ "$ready" = Ready ] && break
    fi
    [ "$SECONDS" -ge "$end" ] && break
    sleep 0.3
  done
  say "$n started (dockerd pid $(dockerd_pid "$n"), swarm state ${st:-unknown}${ready:+, $ready on $MANAGER}) in $(elapsed)s"
}

cmd_verify() {
  require_linux; require_root
  local n
  for n in "${NODES[@]}"; do
    dockerd_pid "$n" >/dev/null || die "node $n is not running; see: bash lab/lab.sh status"
  done
  # right after start-node the node's tasks are still being replaced
  wait_nodes_ready 60 || exit 1
  wait_services 90 || exit 1
  verify_all || exit 1
  say "all checks passed"
}

usage() {
  cat <<EOF
usage: bash lab/lab.sh COMMAND
  up                 build (or repair) the three-node swarm and its services; idempotent
  down               stop everything, remove namespaces, bridge, mounts, rules and state
  status             nodes, docker node ls, services; exit 0 only if healthy
  env [NODE]         shell lines pointing the docker CLI at NODE (default $MANAGER)
  info               machine-readable JSON about the lab
  stop-node NODE     stop that node's dockerd (gracefully, by pid)
  start-node NODE    start it again (it rejoins the swarm); waits until the engine answers
  verify             re-run the data path, tools and netns-folder checks
nodes: ${NODES[*]}
EOF
}

CMD=${1:-}
[ $# -gt 0 ] && shift
case "$CMD" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) require_linux; cmd_env "$@" ;;
  info) require_linux; cmd_info ;;
  stop-node) cmd_stop_node "$@" ;;
  start-node) cmd_start_node "$@" ;;
  verify) cmd_verify ;;
  _node-init) node_init "$@" ;;
  -h|--help|help) usage ;;
  *) usage >&2; exit 2 ;;
esac
