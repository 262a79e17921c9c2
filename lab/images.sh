# shellcheck shell=bash
# Root file systems for the lab images, assembled from this machine's Debian packages
# (no registry is reachable). Sourced by lab.sh; each function fills an empty folder.
#
#   swarm-lab/busybox:1  busybox-static + applet links, /www/index.html, minimal /etc
#   swarm-lab/tools:1    Debian's iptables (nft + legacy), iproute2 (ip, bridge, ss),
#                        conntrack, ipvsadm, tcpdump, nsenter with the libraries ldd lists,
#                        plus dash as /bin/sh and busybox for ls/cat/wget/...

APP_PAGE='swarm-lab schemaregistry OK'

# The text that decides whether an image must be rebuilt: this file plus the versions of
# the Debian packages the images are made from.
image_recipe_hash() {
  {
    cat "${BASH_SOURCE[0]}"
    dpkg-query -W busybox-static iptables iproute2 tcpdump conntrack ipvsadm util-linux libc6 2>/dev/null
  } | sha256sum | cut -c1-16
}

_busybox_bin() {
  local b
  for b in /bin/busybox /usr/bin/busybox; do
    if [ -x "$b" ] && "$b" --list-full >/dev/null 2>&1 && ! ldd "$b" >/dev/null 2>&1; then
      echo "$b"; return 0
    fi
  done
  # ldd says "not a dynamic executable" (non-zero) for a static binary; fall back to any busybox
  for b in /bin/busybox /usr/bin/busybox; do [ -x "$b" ] && { echo "$b"; return 0; }; done
  echo "busybox not found (install busybox-static)" >&2
  return 1
}

_write_etc_common() { # ROOT
  local r=$1
  mkdir -p "$r/etc" "$r/tmp" "$r/run" "$r/root" "$r/var"
  chmod 1777 "$r/tmp"
  ln -sfn ../run "$r/var/run"
  cat >"$r/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
tcpdump:x:102:105:tcpdump:/nonexistent:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
  cat >"$r/etc/group" <<'EOF'
root:x:0:
tcpdump:x:105:
nogroup:x:65534:
EOF
  cat >"$r/etc/nsswitch.conf" <<'EOF'
passwd: files
group: files
shadow: files
hosts: files dns
networks: files
protocols: files
services: files
ethers: files
EOF
  local f
  for f in /etc/protocols /etc/services /etc/ethertypes; do
    [ -f "$f" ] && cp -L "$f" "$r$f"
  done
  return 0
}

# swarm-lab/busybox:1 -- PATH=/bin:/usr/bin:/sbin:/usr/sbin
build_app_rootfs() { # ROOT
  local r=$1 bb
  bb=$(_busybox_bin) || return 1
  mkdir -p "$r/bin" "$r/sbin" "$r/usr/bin" "$r/usr/sbin" "$r/www"
  cp -L "$bb" "$r/bin/busybox"
  # one process instead of ~400 ln forks; links point to /bin/busybox
  chroot "$r" /bin/busybox --install -s
  _write_etc_common "$r"
  printf '<html><body><h1>%s</h1></body></html>\n' "$APP_PAGE" >"$r/www/index.html"
}

# Copy the shared libraries ldd lists for FILES (and the dynamic loader) into ROOT, each at
# its real folder (so /lib/x86_64-linux-gnu/x lands in /usr/lib/x86_64-linux-gnu/x), keeping
# the name the loader asks for. One ldd call for all files: forking per library is slow.
_copy_libs() { # ROOT FILE...
  local r=$1 lib d; shift
  declare -A seen_dir=()
  while read -r lib; do
    [ -e "$lib" ] || continue
    d=${lib%/*}
    if [ -z "${seen_dir[$d]:-}" ]; then seen_dir[$d]=$(readlink -f "$d"); mkdir -p "$r${seen_dir[$d]}"; fi
    [ -e "$r${seen_dir[$d]}/${lib##*/}" ] || cp -L "$lib" "$r${seen_dir[$d]}/${lib##*/}"
  done < <(ldd "$@" 2>/dev/null | awk '/=>/ { if ($3 ~ /^\//) print $3; next } $1 ~ /^\// { print $1 }' | sort -u)
}

# swarm-lab/tools:1 -- merged /usr layout like Debian, PATH=/usr/sbin:/usr/bin:/sbin:/bin
build_tools_rootfs() { # ROOT
  local r=$1 bb t a name xt
  bb=$(_busybox_bin) || return 1
  mkdir -p "$r/usr/bin" "$r/usr/sbin" "$r/usr/lib/x86_64-linux-gnu" "$r/usr/lib64" "$r/etc"
  ln -s usr/bin "$r/bin"; ln -s usr/sbin "$r/sbin"; ln -s usr/lib "$r/lib"; ln -s usr/lib64 "$r/lib64"

  # single binaries
  for t in /usr/sbin/xtables-nft-multi /usr/sbin/xtables-legacy-multi /usr/sbin/ip /usr/sbin/bridge \
           /usr/bin/ss /usr/sbin/conntrack /usr/sbin/ipvsadm /usr/bin/tcpdump /usr/bin/nsenter /usr/bin/dash; do
    if [ ! -x "$t" ]; then echo "missing $t" >&2; return 1; fi
    cp -L "$t" "$r$t"
  done

  # iptables names: explicit -nft / -legacy names, plain names follow the host's default backend
  local default_multi=xtables-nft-multi
  case "$(readlink -f /usr/sbin/iptables 2>/dev/null)" in *legacy*) default_multi=xtables-legacy-multi ;; esac
  for name in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
    ln -s "$default_multi" "$r/usr/sbin/$name"
  done
  for name in iptables ip6tables; do
    ln -s xtables-nft-multi "$r/usr/sbin/$name-nft"
    ln -s xtables-nft-multi "$r/usr/sbin/$name-nft-save"
    ln -s xtables-nft-multi "$r/usr/sbin/$name-nft-restore"
    ln -s xtables-legacy-multi "$r/usr/sbin/$name-legacy"
    ln -s xtables-legacy-multi "$r/usr/sbin/$name-legacy-save"
    ln -s xtables-legacy-multi "$r/usr/sbin/$name-legacy-restore"
  done
  for name in ebtables ebtables-nft ebtables-save ebtables-restore arptables arptables-nft \
              arptables-save arptables-restore xtables-monitor; do
    ln -s xtables-nft-multi "$r/usr/sbin/$name"
  done

  # xtables extensions and what they link. ldd forks a loader per file (~70 ms each here, 120
  # files); their NEEDED names are read with one grep instead, and only those libraries and
  # the binaries go through ldd.
  xt=/usr/lib/x86_64-linux-gnu/xtables
  local -a extra=()
  if [ -d "$xt" ]; then
    mkdir -p "$r$xt"
    cp -a "$xt/." "$r$xt/"
    local so
    while read -r so; do
      [ -e "/usr/lib/x86_64-linux-gnu/$so" ] && extra+=("/usr/lib/x86_64-linux-gnu/$so")
    done < <(grep -ahoE 'lib[A-Za-z0-9_+-]+\.so(\.[0-9]+)+' "$xt"/*.so | sort -u)
  fi
  # libraries of all of the above, and the dynamic loader (ldd lists it by its ABI path)
  _copy_libs "$r" /usr/sbin/xtables-nft-multi /usr/sbin/xtables-legacy-multi /usr/sbin/ip /usr/sbin/bridge \
    /usr/bin/ss /usr/sbin/conntrack /usr/sbin/ipvsadm /usr/bin/tcpdump /usr/bin/nsenter /usr/bin/dash "${extra[@]}"
  for so in "${extra[@]}"; do
    [ -e "$r$so" ] || cp -L "$so" "$r$so"
  done
  [ -d /etc/iproute2 ] && cp -rL /etc/iproute2 "$r/etc/" 2>/dev/null
  [ -d /usr/share/iproute2 ] && mkdir -p "$r/usr/share" && cp -rL /usr/share/iproute2 "$r/usr/share/"
  [ -d /etc/xtables ] && cp -rL /etc/xtables "$r/etc/"

  # /bin/sh is Debian's dash, NOT busybox: Debian's busybox-static shell runs its own applet
  # for a command name even when a real binary is first on PATH (`sh -c 'ip ...'` would run
  # busybox ip, not iproute2). dash looks commands up on PATH like any shell.
  ln -s dash "$r/usr/bin/sh"
  # busybox for everything else; --install skips names that exist, so the real tools stay
  cp -L "$bb" "$r/usr/bin/busybox"
  chroot "$r" /usr/bin/busybox --install -s
  # a busybox applet in the other bin folder must not shadow a real tool either
  for a in xtables-nft-multi xtables-legacy-multi ip bridge ss conntrack ipvsadm tcpdump nsenter \
           iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
    for name in "$r/usr/bin/$a" "$r/usr/sbin/$a"; do
      if [ -L "$name" ] && [ "$(readlink "$name")" = /usr/bin/busybox ]; then rm -f "$name"; fi
    done
  done
  _write_etc_common "$r"
}
