#!/usr/bin/env bash
# One-command demo:  npm run demo [-- --port N --no-lab --no-build]
#  1. starts the lab swarm (bash lab/lab.sh up),
#  2. installs node_modules (npm ci) if missing and builds dist/extension.js (npm run build),
#  3. serves VS Code in the browser at http://127.0.0.1:<port>/ with the extension loaded and
#     swarmDoctor.host pointing at the lab's manager (scripts/serve-vscode.sh, foreground).
# Ctrl-C stops VS Code; the lab keeps running until: npm run lab -- down
#
# Options (after `--` when run through npm):
#   --port N       port for VS Code (default: $PORT or 8080)
#   --no-lab       do not start the lab; use $SWARM_DOCTOR_HOST (or the extension's default)
#   --no-build     skip npm run build (use the existing dist/)
#   anything else is passed on to scripts/serve-vscode.sh (e.g. a folder to open)
# Environment: SWARM_DOCTOR_HOST overrides the host taken from the lab;
#   SWARM_DOCTOR_LAB_SH replaces lab/lab.sh (for testing).
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
cd "$REPO_ROOT"
LAB_SH=${SWARM_DOCTOR_LAB_SH:-lab/lab.sh}

say() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf '[demo] ERROR: %s\n' "$*" >&2; exit 1; }

PORT_=${PORT:-8080}
USE_LAB=1
BUILD=1
PASS=()
LAB_SETTINGS=()
while (($#)); do
  case $1 in
    --port) PORT_=${2:?--port needs a value}; shift 2 ;;
    --port=*) PORT_=${1#*=}; shift ;;
    --no-lab) USE_LAB=0; shift ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) PASS+=("$1"); shift ;;
  esac
done

HOST=${SWARM_DOCTOR_HOST:-}
if [[ $USE_LAB == 1 ]]; then
  [[ -f $LAB_SH ]] || die "$LAB_SH not found"
  say "Starting the lab swarm (bash $LAB_SH up) ..."
  bash "$LAB_SH" up
  lab_env=$(bash "$LAB_SH" env) || die "bash $LAB_SH env failed"
  lab_host=$(printf '%s\n' "$lab_env" | sed -n "s/^[[:space:]]*\(export[[:space:]]\{1,\}\)\{0,1\}DOCKER_HOST=//p" | head -n1 | tr -d "\"'")
  [[ -n $lab_host ]] || die "bash $LAB_SH env printed no DOCKER_HOST (got: $lab_env)"
  HOST=${HOST:-$lab_host}
  # Commands in the lab run with its own tools image, and reach each node's engine directly.
  lab_info=$(bash "$LAB_SH" info) || die "bash $LAB_SH info failed"
  LAB_SETTINGS=(
    "swarmDoctor.helperImage=$(printf '%s' "$lab_info" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(JSON.parse(s).toolsImage))')"
    "swarmDoctor.nodeEndpoints=$(printf '%s' "$lab_info" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(JSON.stringify(Object.fromEntries(JSON.parse(s).nodes.map(n=>[n.name,"unix://"+n.socket])))))')"
  )
fi

if [[ ! -d node_modules ]]; then
  say "Installing dependencies (npm ci) ..."
  npm ci
fi
if [[ $BUILD == 1 ]]; then
  say "Building the extension (npm run build) ..."
  npm run build
fi
main=$(node -p 'require("./package.json").main || ""')
[[ -z $main || -f $main ]] || die "$main is missing after the build"

say "Starting VS Code (code-server; installed into the cache on first use, a few minutes) ..."
notes=()
if [[ -n $HOST ]]; then
  notes+=("swarmDoctor.host = $HOST")
else
  notes+=("swarmDoctor.host not set: the extension uses its default Docker host")
fi
notes+=("Open the \"Swarm Doctor\" view in the activity bar on the left.")
[[ $USE_LAB == 1 ]] && notes+=("The lab keeps running after Ctrl-C. Remove it with:  npm run lab -- down")

export SWARM_DOCTOR_HOST=$HOST
args=(--port "$PORT_")
for n in "${notes[@]}"; do args+=(--note "$n"); done
for setting in "${LAB_SETTINGS[@]}"; do args+=(--setting "$setting"); done
exec bash "$SCRIPT_DIR/serve-vscode.sh" "${args[@]}" "${PASS[@]}"
