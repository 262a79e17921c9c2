# shellcheck shell=bash
# Root file systems for the lab images, assembled from this machine's Debian packages
# (no registry is reachable). Sourced by lab.sh; each function fills an empty folder.
#
#   swarm-lab/busybox:1  busybox-static + applet links, /www/index.html, minimal /etc
#   swarm-lab/tools:1    Debian's iptables (nft + legacy), iproute2 (ip, bridge, ss),
#                        conntrack, ipvsadm, tcpdump, nsenter with the libraries ldd lists,
#                        plus busybox for sh/ls/cat/...

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
  local r=$1 bb a
  bb=$(_busybox_bin) || return 1
  mkdir -p "$r/bin" "$r/sbin" "$r/usr/bin" "$r/usr/sbin" "$r/www"
  cp -L "$bb" "$r/bin/busybox"
  while read -r a; do
    [ -n "$a" ] || continue
    [ "$a" = bin/busybox ] && continue
    [ -e "$r/$a" ] || ln -s /bin/busybox "$r/$a"
  done < <("$bb" --list-full)
  _write_etc_common "$r"
  printf '<html><body><h1>%s</h1></body></html>\n' "$APP_PAGE" >"$r/www/index.html"
}

# Copy FILE (following links) to the same real folder inside ROOT, keeping its name.
_copy_file() { # ROOT FILE
  local r=$1 f=$2 d
  d=$(readlink -f "$(dirname "$f")")
  mkdir -p "$r$d"
  [ -e "$r$d/$(basename "$f")" ] || cp -L "$f" "$r$d/$(basename "$f")"
}

# Copy the shared libraries ldd lists for FILE (and the dynamic loader).
_copy_libs() { # ROOT FILE
  local r=$1 f=$2 lib
  while read -r lib; do
    [ -n "$lib" ] && [ -e "$lib" ] && _copy_file "$r" "$lib"
  done < <(ldd "$f" 2>/dev/null | awk '/=>/ { if ($3 ~ /^\//) print $3; next } $1 ~ /^\// { print $1 }')
}

# swarm-lab/tools:1 -- merged /usr layout like Debian, PATH=/usr/sbin:/usr/bin:/sbin:/bin
build_tools_rootfs() { # ROOT
  local r=$1 bb t a name dest xt
  bb=$(_busybox_bin) || return 1
  mkdir -p "$r/usr/bin" "$r/usr/sbin" "$r/usr/lib/x86_64-linux-gnu" "$r/usr/lib64"
  ln -s usr/bin "$r/bin"; ln -s usr/sbin "$r/sbin"; ln -s usr/lib "$r/lib"; ln -s usr/lib64 "$r/lib64"

  # dynamic loader at its ABI path (/lib64/ld-linux-x86-64.so.2)
  _copy_file "$r" /lib64/ld-linux-x86-64.so.2
  if [ ! -e "$r/usr/lib64/ld-linux-x86-64.so.2" ]; then
    cp -L /lib64/ld-linux-x86-64.so.2 "$r/usr/lib64/ld-linux-x86-64.so.2"
  fi

  # single binaries
  for t in /usr/sbin/xtables-nft-multi /usr/sbin/xtables-legacy-multi /usr/sbin/ip /usr/sbin/bridge \
           /usr/bin/ss /usr/sbin/conntrack /usr/sbin/ipvsadm /usr/bin/tcpdump /usr/bin/nsenter; do
    if [ ! -x "$t" ]; then echo "missing $t" >&2; return 1; fi
    cp -L "$t" "$r$t"
    _copy_libs "$r" "$t"
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

  # xtables extensions and what they link
  xt=/usr/lib/x86_64-linux-gnu/xtables
  if [ -d "$xt" ]; then
    mkdir -p "$r$xt"
    cp -a "$xt/." "$r$xt/"
    for a in "$xt"/*.so; do _copy_libs "$r" "$a"; done
  fi
  [ -d /etc/iproute2 ] && cp -rL /etc/iproute2 "$r/etc/" 2>/dev/null
  [ -d /usr/share/iproute2 ] && mkdir -p "$r/usr/share" && cp -rL /usr/share/iproute2 "$r/usr/share/"
  [ -d /etc/xtables ] && cp -rL /etc/xtables "$r/etc/"

  # busybox for everything else (never shadowing a real tool)
  cp -L "$bb" "$r/usr/bin/busybox"
  while read -r a; do
    [ -n "$a" ] || continue
    name=${a##*/}
    case "$a" in
      sbin/*|usr/sbin/*) dest=$r/usr/sbin/$name ;;
      *) dest=$r/usr/bin/$name ;;
    esac
    [ "$name" = busybox ] && continue
    [ -e "$r/usr/sbin/$name" ] || [ -e "$r/usr/bin/$name" ] || [ -L "$r/usr/sbin/$name" ] || [ -L "$r/usr/bin/$name" ] \
      || ln -s /usr/bin/busybox "$dest"
  done < <("$bb" --list-full)
  mkdir -p "$r/etc"
  _write_etc_common "$r"
}
