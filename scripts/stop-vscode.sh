#!/usr/bin/env bash
# Stop a code-server started with `bash scripts/serve-vscode.sh --background`,
# by its pid file (the whole process group it leads: server, extension host, pty host).
#   bash scripts/stop-vscode.sh [--port N] [--state-dir DIR]
exec bash "$(dirname "${BASH_SOURCE[0]}")/serve-vscode.sh" --stop "$@"
