#!/usr/bin/env bash
# Serve VS Code (code-server 4.100.3 = VS Code 1.100.3) in the browser with this
# extension loaded unpacked from its folder (no .vsix, no rebuild of the server).
#
# Usage: bash scripts/serve-vscode.sh [options] [FOLDER]
#   FOLDER                  folder to open (default: a small scratch workspace in the state dir)
#   --port N                port on 127.0.0.1 (default: $PORT or 8080)
#   --background            start detached: write pid file + log in the state dir, wait until
#                           the port answers, print the URL, exit 0
#   --stop                  stop the background server of this --port / --state-dir (by pid file)
#   --status                say whether a background server is running, print its URL
#   --extension-dir DIR     extension folder to load (default: $SWARM_DOCTOR_EXTENSION_DIR or the repo root)
#   --state-dir DIR         pid file, log, user-data, extensions (default:
#                           ${SWARM_DOCTOR_CACHE:-~/.cache/swarm-network-doctor}/vscode-<port>)
#   --user-data-dir DIR     use this user-data-dir as is (default: fresh <state>/user-data on every start)
#   --extensions-dir DIR    use this extensions dir (default: fresh <state>/extensions on every start)
#   --host URL              swarmDoctor.host setting (default: $SWARM_DOCTOR_HOST; unset = not written)
#   --theme NAME            workbench.colorTheme (default: "Default Dark Modern")
#   --setting KEY=VALUE     extra User setting; VALUE is parsed as JSON if it is valid JSON,
#                           otherwise taken as a string (repeatable)
#   --note TEXT             extra line for the foreground banner (repeatable)
#   --timeout S             how long to wait for the port in --background mode (default 90)
#   -h, --help
# Foreground (default): prints the URL, then waits; Ctrl-C stops code-server and its children.
# Stop a background server:  bash scripts/serve-vscode.sh --stop [--port N]
#                        or: bash scripts/stop-vscode.sh [--port N]
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
CACHE_ROOT=${SWARM_DOCTOR_CACHE:-$HOME/.cache/swarm-network-doctor}

log() { printf '[serve-vscode] %s\n' "$*" >&2; }
die() { printf '[serve-vscode] ERROR: %s\n' "$*" >&2; exit 1; }

PORT_=${PORT:-8080}
MODE=foreground
EXT_DIR=${SWARM_DOCTOR_EXTENSION_DIR:-$REPO_ROOT}
STATE_DIR=
USER_DATA_DIR=
EXTENSIONS_DIR=
HOST_SETTING=${SWARM_DOCTOR_HOST:-}
THEME="Default Dark Modern"
WAIT_TIMEOUT=90
FOLDER=
EXTRA_SETTINGS=()
NOTES=()

while (($#)); do
  case $1 in
    --port) PORT_=${2:?--port needs a value}; shift 2 ;;
    --port=*) PORT_=${1#*=}; shift ;;
    --background|-b) MODE=background; shift ;;
    --foreground) MODE=foreground; shift ;;
    --stop) MODE=stop; shift ;;
    --status) MODE=status; shift ;;
    --extension-dir) EXT_DIR=${2:?}; shift 2 ;;
    --extension-dir=*) EXT_DIR=${1#*=}; shift ;;
    --state-dir) STATE_DIR=${2:?}; shift 2 ;;
    --state-dir=*) STATE_DIR=${1#*=}; shift ;;
    --user-data-dir) USER_DATA_DIR=${2:?}; shift 2 ;;
    --user-data-dir=*) USER_DATA_DIR=${1#*=}; shift ;;
    --extensions-dir) EXTENSIONS_DIR=${2:?}; shift 2 ;;
    --extensions-dir=*) EXTENSIONS_DIR=${1#*=}; shift ;;
    --host) HOST_SETTING=${2?}; shift 2 ;;
    --host=*) HOST_SETTING=${1#*=}; shift ;;
    --theme) THEME=${2:?}; shift 2 ;;
    --theme=*) THEME=${1#*=}; shift ;;
    --setting) EXTRA_SETTINGS+=("${2:?}"); shift 2 ;;
    --setting=*) EXTRA_SETTINGS+=("${1#*=}"); shift ;;
    --note) NOTES+=("${2?}"); shift 2 ;;
    --timeout) WAIT_TIMEOUT=${2:?}; shift 2 ;;
    --timeout=*) WAIT_TIMEOUT=${1#*=}; shift ;;
    -h|--help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --) shift; FOLDER=${1:-}; shift || true ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) [[ -z $FOLDER ]] || die "only one FOLDER may be given"; FOLDER=$1; shift ;;
  esac
done
[[ $PORT_ =~ ^[0-9]+$ ]] || die "--port must be a number, got '$PORT_'"
STATE_DIR=${STATE_DIR:-$CACHE_ROOT/vscode-$PORT_}
PID_FILE=$STATE_DIR/server.pid
LOG_FILE=$STATE_DIR/server.log
URL="http://127.0.0.1:$PORT_/"

# ------------------------------------------------------------ process helpers
# code-server runs as the leader of its own process group (setsid), so the
# whole tree it spawns (extension host, pty host, file watcher) can be stopped
# by that one id.
group_members() { ps -e -o pid=,pgid= | awk -v g="$1" '$2 == g { print $1 }'; }
is_our_server() {  # pid alive and looks like the code-server we started
  local pid=$1
  [[ -n $pid && -d /proc/$pid ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'code-server.*/out/node/entry.js'
}
stop_group() {  # stop_group PGID: TERM, wait up to 10 s, then KILL what is left
  local pg=$1 i
  kill -TERM -- "-$pg" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    [[ -z $(group_members "$pg") ]] && return 0
    sleep 0.1
  done
  log "still running after 10 s, sending KILL to process group $pg"
  kill -KILL -- "-$pg" 2>/dev/null || true
  sleep 0.3
  [[ -z $(group_members "$pg") ]]
}
port_answers() {
  if command -v curl >/dev/null; then
    curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$PORT_/healthz"
  else
    node -e 'fetch(process.argv[1]).then(() => process.exit(0), () => process.exit(1))' "http://127.0.0.1:$PORT_/healthz"
  fi
}

if [[ $MODE == stop ]]; then
  if [[ ! -f $PID_FILE ]]; then log "no pid file at $PID_FILE: nothing to stop"; exit 0; fi
  pid=$(cat "$PID_FILE")
  if ! is_our_server "$pid"; then
    log "process $pid from $PID_FILE is not running (or is not code-server); removing stale pid file"
    rm -f "$PID_FILE"; exit 0
  fi
  log "stopping code-server (pid/process group $pid) ..."
  if stop_group "$pid"; then rm -f "$PID_FILE"; log "stopped"; exit 0; fi
  die "could not stop process group $pid"
fi
if [[ $MODE == status ]]; then
  if [[ -f $PID_FILE ]] && is_our_server "$(cat "$PID_FILE")"; then
    echo "running: pid $(cat "$PID_FILE") $URL (log $LOG_FILE)"; exit 0
  fi
  echo "not running (port $PORT_)"; exit 1
fi

# ------------------------------------------------------------ preparation
[[ -f $EXT_DIR/package.json ]] || die "no package.json in extension dir $EXT_DIR"
EXT_DIR=$(cd "$EXT_DIR" && pwd)
if [[ -f $PID_FILE ]] && is_our_server "$(cat "$PID_FILE")"; then
  die "a server from $STATE_DIR is already running (pid $(cat "$PID_FILE"), $URL). Stop it: bash scripts/stop-vscode.sh --port $PORT_"
fi
if port_answers; then
  die "something already answers on 127.0.0.1:$PORT_; choose another --port"
fi

ENTRY=$(bash "$SCRIPT_DIR/code-server.sh" | tail -n1)
[[ -f $ENTRY ]] || die "code-server.sh did not give an entry.js path"
CS_CONFIG=${ENTRY%/node_modules/code-server/out/node/entry.js}/config.yaml
[[ -f $CS_CONFIG ]] || CS_CONFIG=$STATE_DIR/config.yaml

mkdir -p "$STATE_DIR"
[[ -f $CS_CONFIG ]] || printf 'auth: none\n' >"$CS_CONFIG"
if [[ -z $USER_DATA_DIR ]]; then
  USER_DATA_DIR=$STATE_DIR/user-data
  rm -rf "$USER_DATA_DIR"
fi
if [[ -z $EXTENSIONS_DIR ]]; then
  EXTENSIONS_DIR=$STATE_DIR/extensions
  rm -rf "$EXTENSIONS_DIR"
fi
mkdir -p "$USER_DATA_DIR/User" "$EXTENSIONS_DIR"

# publisher.name-version -> extension folder (loaded unpacked)
EXT_ID=$(node -e '
  const p = require(process.argv[1]);
  if (!p.publisher || !p.name || !p.version) { console.error("package.json lacks publisher/name/version"); process.exit(1); }
  console.log(`${p.publisher}.${p.name}-${p.version}`);' "$EXT_DIR/package.json")
# Drop other versions of the same extension left in a reused extensions dir.
find "$EXTENSIONS_DIR" -maxdepth 1 -name "${EXT_ID%-*}-*" ! -name "$EXT_ID" -exec rm -rf {} + 2>/dev/null || true
ln -sfn "$EXT_DIR" "$EXTENSIONS_DIR/$EXT_ID"
[[ -f $EXT_DIR/$(node -p 'require(process.argv[1]).main || "package.json"' "$EXT_DIR/package.json") ]] ||
  log "warning: the extension's main file is missing (not built yet? run: npm run build)"

# User settings.json
SETTINGS_FILE=$USER_DATA_DIR/User/settings.json
# A quiet workbench (scripts/workbench-settings.json, shared with the e2e runs), then ours.
node - "$SETTINGS_FILE" "$SCRIPT_DIR/workbench-settings.json" "$HOST_SETTING" "$THEME" "${EXTRA_SETTINGS[@]}" <<'EOF'
const fs = require('fs');
const [file, quiet, host, theme, ...extra] = process.argv.slice(2);
let s = {};
try { s = JSON.parse(fs.readFileSync(file, 'utf8')); } catch { /* fresh */ }
Object.assign(s, JSON.parse(fs.readFileSync(quiet, 'utf8')), {
  'workbench.colorTheme': theme,
  'git.openRepositoryInParentFolders': 'never',
});
if (host) s['swarmDoctor.host'] = host;
for (const kv of extra) {
  const i = kv.indexOf('=');
  if (i < 1) { console.error(`--setting expects KEY=VALUE, got: ${kv}`); process.exit(2); }
  const k = kv.slice(0, i), v = kv.slice(i + 1);
  try { s[k] = JSON.parse(v); } catch { s[k] = v; }
}
fs.writeFileSync(file, JSON.stringify(s, null, 2) + '\n');
EOF

# Folder to open
if [[ -z $FOLDER ]]; then
  FOLDER=$STATE_DIR/workspace
  if [[ ! -d $FOLDER ]]; then
    mkdir -p "$FOLDER"
    cat >"$FOLDER/README.md" <<'EOF'
# Swarm Network Doctor scratch workspace

A small folder opened by `scripts/serve-vscode.sh`. Open the **Swarm Doctor**
view in the activity bar on the left.
EOF
  fi
fi
[[ -d $FOLDER || -f $FOLDER ]] || die "folder to open does not exist: $FOLDER"
FOLDER=$(cd "$(dirname "$FOLDER")" && pwd)/$(basename "$FOLDER")

ARGS=(
  "$ENTRY"
  --config "$CS_CONFIG"
  --auth none
  --bind-addr "127.0.0.1:$PORT_"
  --disable-telemetry
  --disable-workspace-trust
  --disable-update-check
  --disable-getting-started-override
  --user-data-dir "$USER_DATA_DIR"
  --extensions-dir "$EXTENSIONS_DIR"
  "$FOLDER"
)

log "extension: $EXT_ID -> $EXT_DIR"
log "user-data-dir: $USER_DATA_DIR   extensions-dir: $EXTENSIONS_DIR"
[[ -n $HOST_SETTING ]] && log "swarmDoctor.host = $HOST_SETTING"
log "log: $LOG_FILE"

# VSCODE_IPC_HOOK_CLI (set inside a VS Code terminal) makes code-server hand the
# folder to that VS Code instead of starting; PORT would override --bind-addr's port.
# setsid: own process group, so stop = one kill of the group.
: >"$LOG_FILE"
env -u VSCODE_IPC_HOOK_CLI -u PORT -u VSCODE_PROXY_URI setsid node "${ARGS[@]}" >>"$LOG_FILE" 2>&1 </dev/null &
PID=$!
echo "$PID" >"$PID_FILE"

# Wait for the port (or for an early exit).
deadline=$((SECONDS + WAIT_TIMEOUT))
until port_answers; do
  if ! kill -0 "$PID" 2>/dev/null; then
    rm -f "$PID_FILE"
    tail -n 30 "$LOG_FILE" >&2
    die "code-server exited during start-up (log above, full log: $LOG_FILE)"
  fi
  if ((SECONDS >= deadline)); then
    tail -n 30 "$LOG_FILE" >&2
    stop_group "$PID" || true; rm -f "$PID_FILE"
    die "127.0.0.1:$PORT_ did not answer within ${WAIT_TIMEOUT}s"
  fi
  sleep 0.2
done

if [[ $MODE == background ]]; then
  log "running in the background: pid $PID (pid file $PID_FILE)"
  log "stop it with: bash scripts/stop-vscode.sh --port $PORT_"
  echo "$URL"
  exit 0
fi

# Foreground: show the log, stop the group on Ctrl-C / TERM / exit.
cleanup() {
  trap - INT TERM EXIT
  if kill -0 "$PID" 2>/dev/null || [[ -n $(group_members "$PID") ]]; then
    log "stopping code-server (process group $PID) ..."
    stop_group "$PID" && log "stopped" || log "could not stop process group $PID"
  fi
  rm -f "$PID_FILE"
  [[ -n ${TAIL_PID:-} ]] && kill "$TAIL_PID" 2>/dev/null || true
}
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM
trap cleanup EXIT

{
  printf '\n  ==============================================================\n'
  printf '   VS Code with %s is running at:\n\n' "$EXT_ID"
  printf '       %s\n\n' "$URL"
  printf '   Press Ctrl-C to stop it.\n'
  for n in "${NOTES[@]}"; do printf '   %s\n' "$n"; done
  printf '  ==============================================================\n\n'
}
if [[ -z ${SWARM_DOCTOR_QUIET:-} ]]; then
  tail -n +1 -f "$LOG_FILE" >&2 &
  TAIL_PID=$!
fi
set +e
wait "$PID"
rc=$?
set -e
[[ $rc == 0 ]] || log "code-server exited with status $rc"
exit "$rc"
