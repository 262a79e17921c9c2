#!/usr/bin/env bash
# Install code-server (VS Code's server + web workbench) into a cache folder,
# without downloads from anything but the npm registry (and Debian apt when root).
#
#   bash scripts/code-server.sh            # installs if needed, prints entry.js path on stdout
#   bash scripts/code-server.sh --force    # reinstall from scratch
#
# Cache: ${SWARM_DOCTOR_CACHE:-$HOME/.cache/swarm-network-doctor}/code-server-4.100.3
# A marker file is written only after a complete, verified install; with the
# marker present (and the same Node ABI) the script returns at once.
# $DIR/config.yaml is a minimal config file (auth: none) to pass as --config (otherwise
# code-server writes ~/.config/code-server/config.yaml).
# Progress goes to stderr; stdout carries only the entry.js path.
#
# Why the detours (see also docs in the repo notes):
#  - code-server 4.100.3 (VS Code 1.100.3) is the newest that runs on Node 20.
#  - its postinstall refuses to run as root without npm_config_unsafe_perm=true,
#    and @vscode/ripgrep / argon2 / kerberos try to download binaries from GitHub.
#    So everything is installed with --ignore-scripts and the native modules are
#    rebuilt from source here; rg comes from Debian's ripgrep package.
set -euo pipefail

CS_VERSION=4.100.3
CACHE_ROOT=${SWARM_DOCTOR_CACHE:-$HOME/.cache/swarm-network-doctor}
DIR=$CACHE_ROOT/code-server-$CS_VERSION
MARKER=$DIR/.install-complete
CS=$DIR/node_modules/code-server
ENTRY=$CS/out/node/entry.js
VSC=$CS/lib/vscode

FORCE=0
for a in "$@"; do
  case $a in
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 0 ;;
    *) echo "code-server.sh: unknown option $a" >&2; exit 2 ;;
  esac
done

log() { printf '[code-server.sh] %s\n' "$*" >&2; }
die() { printf '[code-server.sh] ERROR: %s\n' "$*" >&2; exit 1; }

command -v node >/dev/null || die "node not found (Node 20 is required)"
command -v npm >/dev/null || die "npm not found"
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]')
NODE_ABI=$(node -p 'process.versions.modules')
STAMP="code-server=$CS_VERSION node-abi=$NODE_ABI arch=$(uname -m)"

marker_ok() {
  [[ -f $MARKER && -f $ENTRY ]] && [[ "$(head -n1 "$MARKER")" == "$STAMP" ]]
}

# Fast path (no lock needed to read).
if [[ $FORCE == 0 ]] && marker_ok; then
  echo "$ENTRY"
  exit 0
fi

if [[ $NODE_MAJOR != 20 && -z ${SWARM_DOCTOR_FORCE_NODE:-} ]]; then
  die "code-server $CS_VERSION needs Node 20, this is $(node -v). Set SWARM_DOCTOR_FORCE_NODE=1 to try anyway."
fi

mkdir -p "$CACHE_ROOT"
# Serialise concurrent installs (e.g. two test runs starting at once).
exec 9>"$CACHE_ROOT/code-server-$CS_VERSION.lock"
if ! flock -n 9; then
  log "another install is running; waiting for it ..."
  flock 9
fi
if [[ $FORCE == 0 ]] && marker_ok; then   # the other one finished it
  echo "$ENTRY"
  exit 0
fi

START=$(date +%s)

# ---------------------------------------------------------------- system deps
need_debs=()
dpkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
if command -v dpkg-query >/dev/null; then
  for p in libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config python3 make g++; do
    dpkg_installed "$p" || need_debs+=("$p")
  done
  command -v rg >/dev/null || need_debs+=(ripgrep)
fi
if ((${#need_debs[@]})); then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    log "installing Debian packages: ${need_debs[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${need_debs[@]}" >&2
  else
    die "missing packages: ${need_debs[*]} (run: sudo apt-get install ${need_debs[*]})"
  fi
fi
RG_BIN=$(command -v rg) || die "ripgrep (rg) not found"

# ---------------------------------------------------------------- npm setup
export npm_config_unsafe_perm=true       # root: otherwise scripts refuse to run
export npm_config_build_from_source=true # never try GitHub prebuilt downloads
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
export JOBS=${JOBS:-max}                  # node-gyp: make -j<cores>
export npm_config_loglevel=${npm_config_loglevel:-warn}
# Node headers: use the local ones instead of downloading from nodejs.org.
if [[ -z ${npm_config_nodedir:-} ]]; then
  nodeprefix=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
  if [[ -f $nodeprefix/include/node/node_version.h ]]; then
    export npm_config_nodedir=$nodeprefix
  fi
fi
NPM_BIN_DIR=$(dirname "$(readlink -f "$(command -v npm)")")
NODE_GYP_JS=$NPM_BIN_DIR/../node_modules/node-gyp/bin/node-gyp.js
node_gyp() {
  if [[ -f $NODE_GYP_JS ]]; then node "$NODE_GYP_JS" "$@"; else npx --yes node-gyp "$@"; fi
}

step() { log "[$(( $(date +%s) - START ))s] $*"; }

# ---------------------------------------------------------------- install
step "installing code-server $CS_VERSION into $DIR"
rm -rf "$DIR"
mkdir -p "$DIR"
printf '{ "name": "swarm-doctor-code-server-cache", "private": true }\n' >"$DIR/package.json"
(cd "$DIR" && npm install --ignore-scripts --no-save "code-server@$CS_VERSION" >&2)
[[ -f $ENTRY ]] || die "npm install did not produce $ENTRY"

step "installing VS Code's dependencies (lib/vscode)"
(cd "$VSC" && npm install --omit=dev --ignore-scripts >&2)

step "rebuilding native modules: kerberos @vscode/spdlog native-watchdog @vscode/deviceid"
(cd "$VSC" && npm rebuild kerberos @vscode/spdlog native-watchdog @vscode/deviceid >&2)

step "building node-pty with node-gyp"
(cd "$VSC/node_modules/node-pty" && node_gyp rebuild >&2)
# Same clean-up node-pty's own postinstall does (only keeps the needed artefacts).
(cd "$VSC/node_modules/node-pty" && node scripts/post-install.js >/dev/null 2>&1 || true)

step "ripgrep: using $RG_BIN"
mkdir -p "$VSC/node_modules/@vscode/ripgrep/bin"
cp -f "$RG_BIN" "$VSC/node_modules/@vscode/ripgrep/bin/rg"
chmod 755 "$VSC/node_modules/@vscode/ripgrep/bin/rg"

step "what code-server's postinstall does besides npm install (symlinks)"
(
  cd "$VSC"
  rm -rf node_modules.asar && ln -s node_modules node_modules.asar
  (cd bin/remote-cli && rm -rf code-server && ln -s code-linux.sh code-server)
  (cd bin/helpers && rm -rf browser.sh && ln -s browser-linux.sh browser.sh)
)

step "installing built-in extensions' shared dependency (typescript)"
(cd "$VSC/extensions" && npm install --omit=dev --ignore-scripts >&2 && node ./postinstall.mjs >/dev/null)

step "rebuilding argon2 (code-server's password hashing)"
(cd "$DIR" && npm rebuild argon2 >&2)

# ---------------------------------------------------------------- verify
step "verifying"
# An explicit minimal config file: without --config code-server writes
# ~/.config/code-server/config.yaml with a random password.
printf '# options are passed on the command line\nauth: none\n' >"$DIR/config.yaml"
ver=$(node "$ENTRY" --config "$DIR/config.yaml" --version 2>/dev/null | head -n1) || die "entry.js --version failed"
[[ $ver == "$CS_VERSION "* ]] || die "unexpected version output: $ver"
(cd "$VSC" && node --input-type=commonjs -e '
  const mods = ["kerberos", "@vscode/spdlog", "native-watchdog", "@vscode/deviceid", "node-pty", "@parcel/watcher"];
  for (const m of mods) {
    try { require(require.resolve(m, { paths: [process.cwd()] })); }
    catch (e) { console.error("cannot load " + m + ": " + e.message); process.exit(1); }
  }
  require(process.cwd() + "/node_modules/node-pty/build/Release/pty.node");
') >&2 || die "a native module of VS Code does not load"
(cd "$CS" && node --input-type=commonjs -e '
  require(require.resolve("argon2", { paths: [process.cwd()] }));
') >&2 || die "argon2 does not load"
"$VSC/node_modules/@vscode/ripgrep/bin/rg" --version >/dev/null || die "rg does not run"
[[ -f $VSC/extensions/node_modules/typescript/lib/typescript.js ]] || die "extensions/node_modules/typescript missing"

printf '%s\ninstalled=%s seconds=%s\n' "$STAMP" "$(date -u +%FT%TZ)" "$(( $(date +%s) - START ))" >"$MARKER"
step "done: code-server $CS_VERSION ready (took $(( $(date +%s) - START ))s)"
echo "$ENTRY"
