#!/usr/bin/env bash
# npm run test:e2e [-- --only ID[,ID] | --no-suite | --no-journeys]
# End-to-end tests in a real VS Code: the packaged extension (dist/swarm-network-doctor.vsix)
# installed into code-server 4.100.3 (VS Code 1.100.3), against the lab swarm, driven by Debian's
# Chromium through playwright-core. Two phases (test/e2e/harness/main.ts):
#   1. the extension-host suite (mocha, test/e2e/suite) run inside VS Code by a test-runner
#      extension installed beside the real one;
#   2. the UI journeys (test/e2e/journeys), a screenshot each; on a failure also VS Code's logs.
# Brings the lab up if no lab runs (and down afterwards, unless KEEP_LAB=1; a lab that was up,
# even unhealthy, is never taken down), installs code-server
# into ~/.cache/swarm-network-doctor on first use (a few minutes), prints the run folder with
# the screenshots at the end. Exit status 0 only when every test and journey passed.
# Environment: E2E_PORT (first port tried, default 8091), E2E_RETRIES (default 1), E2E_OUT,
# E2E_TRACE=1 (print each workbench step), CHROMIUM_PATH (default /usr/bin/chromium).
set -uo pipefail
cd "$(dirname "$0")/.."

say() { printf '== %s\n' "$*"; }

if [ ! -d node_modules ]; then
  say "npm ci"
  npm ci --no-audit --no-fund || exit 1
fi

browser=${CHROMIUM_PATH:-/usr/bin/chromium}
if [ ! -x "$browser" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && [ -z "${CHROMIUM_PATH:-}" ]; then
    say "apt-get install chromium (the browser the journeys drive)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null || exit 1
  else
    echo "!! no Chromium at $browser: apt-get install chromium, or set CHROMIUM_PATH" >&2
    exit 1
  fi
fi

# The lab: used as it is when up (even if briefly unhealthy), brought up only when absent, and
# then taken down at the end unless KEEP_LAB=1.
. scripts/e2e-lab.sh
ensure_lab || exit 1
trap release_lab EXIT

mkdir -p out/e2e
say "package: dist/swarm-network-doctor.vsix (log: out/e2e/package.log)"
if ! npm run -s package >out/e2e/package.log 2>&1; then
  tail -n 40 out/e2e/package.log >&2
  exit 1
fi
say "compile the tests"
npm run -s compile-tests || exit 1

say "code-server 4.100.3 (installed into the cache on first use)"
entry=$(bash scripts/code-server.sh | tail -n 1) || exit 1
[ -f "$entry" ] || { echo "!! scripts/code-server.sh gave no entry.js" >&2; exit 1; }

say "end-to-end tests"
CODE_SERVER_ENTRY=$entry CHROMIUM_PATH=$browser node out/test/e2e/harness/main.js "$@"
