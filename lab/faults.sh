#!/usr/bin/env bash
# Faults to inject into the lab swarm, and to remove again, for the doctor's scenarios:
#   bash lab/faults.sh incident on|off   REJECT --reject-with tcp-reset for sourcemysql's address in
#                                        the schemaregistry task's namespace on swarm00 (the incident)
#   bash lab/faults.sh vxlan-drop on|off the underlay drops udp 4789 from swarm02 to swarm00 (a rule
#                                        on the lab bridge, as a cloud security group would: neither
#                                        node has a firewall rule for it)
#   bash lab/faults.sh mtu on|off        the underlay link of swarm02 carries only 1400 bytes (its
#                                        bridge-side veth), so full-size overlay packets (1450+50)
#                                        to and from swarm02 vanish while small ones pass
#   bash lab/faults.sh encrypted on|off  an encrypted overlay network (encnet) with a global service
#                                        (encprobe) on it: this kernel has no ESP, so docker's IPsec
#                                        keys are refused and the network carries nothing between nodes
#   bash lab/faults.sh status            which faults are in place
# A worker's dockerd stopped is `bash lab/lab.sh stop-node swarm01` (and start-node).
# Every fault is idempotent, and `off` is safe when it is not on.
set -euo pipefail
DOCKER=/usr/bin/docker
SOCK=/run/swarm-lab
COMMENT=swarm-doctor-lab-fault

die() { echo "faults: $*" >&2; exit 1; }
task_container() { DOCKER_HOST=unix://$SOCK/$1/docker.sock $DOCKER ps -q -f "label=com.docker.swarm.service.name=$2" | head -n 1; }
task_address() { # node service -> its address on the backend network
  DOCKER_HOST=unix://$SOCK/$1/docker.sock $DOCKER inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{if eq $k "backend"}}{{$v.IPAddress}}{{end}}{{end}}' "$(task_container "$1" "$2")"
}
in_task() { # node service command...
  local node=$1 service=$2; shift 2
  local c; c=$(task_container "$node" "$service"); [ -n "$c" ] || die "no $service task on $node"
  DOCKER_HOST=unix://$SOCK/$node/docker.sock $DOCKER run --rm --net "container:$c" --cap-add NET_ADMIN --cap-add NET_RAW swarm-lab/tools:1 "$@"
}

incident() {
  local src; src=$(task_address swarm02 sourcemysql); [ -n "$src" ] || die "sourcemysql has no address on backend"
  local rule=(INPUT -s "$src" -p tcp --dport 8081 -m comment --comment "$COMMENT" -j REJECT --reject-with tcp-reset)
  case $1 in
    on) in_task swarm00 schemaregistry iptables -C "${rule[@]}" 2>/dev/null || in_task swarm00 schemaregistry iptables -I "${rule[@]}" ;;
    off) while in_task swarm00 schemaregistry iptables -C "${rule[@]}" 2>/dev/null; do in_task swarm00 schemaregistry iptables -D "${rule[@]}"; done ;;
    status) in_task swarm00 schemaregistry iptables -C "${rule[@]}" 2>/dev/null && echo "incident: on" || echo "incident: off" ;;
  esac
}

# In the raw table's PREROUTING (bridged packets pass it with bridge netfilter on): before the
# filter FORWARD chain, where lab.sh may insert its own ACCEPT for the bridge above any rule.
vxlan_drop() {
  local rule=(PREROUTING -s 10.99.0.12 -d 10.99.0.10 -p udp --dport 4789 -m comment --comment "$COMMENT" -j DROP)
  [ "$(cat /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null)" = 1 ] || [ "$1" != on ] || die "bridge netfilter is off (net.bridge.bridge-nf-call-iptables): a host rule cannot drop bridged lab traffic"
  case $1 in
    on) iptables -w -t raw -C "${rule[@]}" 2>/dev/null || iptables -w -t raw -I "${rule[@]}" ;;
    off) while iptables -w -t raw -C "${rule[@]}" 2>/dev/null; do iptables -w -t raw -D "${rule[@]}"; done ;;
    status) iptables -w -t raw -C "${rule[@]}" 2>/dev/null && echo "vxlan-drop: on" || echo "vxlan-drop: off" ;;
  esac
}

mtu() {
  case $1 in
    on) ip link set swlab-swarm02 mtu 1400 ;;
    off) ip link set swlab-swarm02 mtu 1500 ;;
    status) [ "$(cat /sys/class/net/swlab-swarm02/mtu)" = 1500 ] && echo "mtu: off" || echo "mtu: on ($(cat /sys/class/net/swlab-swarm02/mtu))" ;;
  esac
}

encrypted() {
  local manager=(env DOCKER_HOST=unix://$SOCK/swarm00/docker.sock $DOCKER)
  case $1 in
    on)
      "${manager[@]}" network inspect encnet >/dev/null 2>&1 || "${manager[@]}" network create -d overlay --opt encrypted --attachable --subnet 10.0.9.0/24 encnet >/dev/null
      # (docker warns that a local image has no registry digest: said only when create fails)
      local out
      "${manager[@]}" service inspect encprobe >/dev/null 2>&1 || out=$("${manager[@]}" service create -d -q --name encprobe --network encnet --mode global --endpoint-mode dnsrr --restart-condition none swarm-lab/busybox:1 sleep 86400 2>&1) || die "encprobe: $out"
      # Until a task runs on every node (the check pings between them): Replicas reads "3/3".
      for _ in $(seq 60); do
        "${manager[@]}" service ls -f name=encprobe --format '{{.Replicas}}' | awk -F/ '$1 == $2 && $1 > 0 { ok = 1 } END { exit !ok }' && return 0
        sleep 1
      done
      die "encprobe did not start on every node" ;;
    off)
      "${manager[@]}" service rm encprobe >/dev/null 2>&1 || true
      # The nodes keep their copy a few seconds after the swarm's is gone: wait until it is.
      for _ in $(seq 60); do
        "${manager[@]}" network inspect encnet >/dev/null 2>&1 || return 0
        "${manager[@]}" network rm encnet >/dev/null 2>&1 || true
        sleep 1
      done
      die "encnet is still there" ;;
    status) "${manager[@]}" network inspect encnet >/dev/null 2>&1 && echo "encrypted: on" || echo "encrypted: off" ;;
  esac
}

[ "$(id -u)" = 0 ] || die "needs root"
case ${1:-} in
  incident) incident "${2:?on|off|status}" ;;
  vxlan-drop) vxlan_drop "${2:?on|off|status}" ;;
  mtu) mtu "${2:?on|off|status}" ;;
  encrypted) encrypted "${2:?on|off|status}" ;;
  status) incident status; vxlan_drop status; mtu status; encrypted status ;;
  *) sed -n '2,17p' "$0" >&2; exit 2 ;;
esac
