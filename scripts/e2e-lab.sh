# Sourced by scripts/e2e.sh and scripts/test-all.sh: make sure the lab swarm is there, and take it
# down afterwards only if this run created it from nothing.
#
#   ensure_lab     healthy: use it. Some node daemons running but not healthy (another session may
#                  be injecting a fault, e.g. a stopped node): leave it alone, wait up to
#                  LAB_WAIT seconds (default 120) for it to heal, then go on (the tests say what
#                  fails). No node running at all: `lab up`, and remember that this run started it.
#   release_lab    `lab down` if ensure_lab started it, unless KEEP_LAB is set.
# Never takes down a lab that was (even partly) up before the run.

started_lab=0

lab_nodes_running() {  # any lab node's dockerd up, per `lab status`
  bash lab/lab.sh status 2>/dev/null | awk '$1 ~ /^swarm[0-9]+$/ && $4 == "up" { found = 1 } END { exit !found }'
}

ensure_lab() {
  if bash lab/lab.sh status >/dev/null 2>&1; then return 0; fi
  if lab_nodes_running; then
    local wait=${LAB_WAIT:-120} end
    echo "== the lab swarm is up but not healthy (a fault being injected?): waiting up to ${wait}s, not touching it"
    end=$((SECONDS + wait))
    while ((SECONDS < end)); do
      if bash lab/lab.sh status >/dev/null 2>&1; then echo "== the lab swarm is healthy again"; return 0; fi
      sleep 5
    done
    echo "!! the lab swarm is still not healthy; going on (npm run lab -- status):"
    bash lab/lab.sh status | sed 's/^/   /'
    return 0
  fi
  echo "== bringing the lab swarm up"
  if bash lab/lab.sh up; then started_lab=1; return 0; fi
  echo "!! lab up failed" >&2
  return 1
}

release_lab() {
  if [ "$started_lab" = 1 ] && [ -z "${KEEP_LAB:-}" ]; then
    echo "== taking the lab swarm down (this run brought it up; set KEEP_LAB=1 to keep it)"
    bash lab/lab.sh down
  fi
}
