#!/usr/bin/env bash
# Prints anything the lab could have left behind on this machine; exit 0 if nothing.
# (Used after `lab.sh down`; see lab/README.md.)
left=0
show() { if [ -n "$2" ]; then echo "LEFT: $1:"; echo "$2" | sed 's/^/    /'; left=1; else echo "ok: no $1"; fi; }
show "network namespaces" "$(ip netns list 2>/dev/null)"
show "dockerd processes" "$(pgrep -a dockerd)"
show "containerd processes" "$(pgrep -a containerd)"
show "lab mounts" "$(findmnt -rn -o TARGET,FSTYPE | grep -E '^(/run/swarm-lab|/var/lib/swarm-lab|/run/netns|/run/docker|/run/containerd|/etc/docker|/var/lib/docker)([/ ]|$)')"
show "lab links" "$(ip -o link show | grep -E 'swlab' )"
show "lab iptables rules" "$( (iptables-nft -S 2>/dev/null; iptables-nft -t raw -S 2>/dev/null; grep -qx filter /proc/net/ip_tables_names 2>/dev/null && iptables-legacy -S 2>/dev/null) | grep -- 'swarm-lab\|swlab\|swarm-doctor-lab-fault')"
show "state folders" "$(ls -d /run/swarm-lab /var/lib/swarm-lab /run/netns /run/docker /run/containerd /var/lib/docker 2>/dev/null)"
show "lab cgroups" "$(ls -d /sys/fs/cgroup/*/swarm-lab /sys/fs/cgroup/swarm-lab 2>/dev/null)"
exit $left
