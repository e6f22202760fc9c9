#!/usr/bin/env bash
# Install claw-lsp with the embedded demo model into .venv and ask the agent one question about
# this repository. With OPENAI_BASE_URL (or a config file) set, your own backend answers instead.
#
#   bash scripts/quickstart.sh ["your question"]
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${CLAW_VENV:-.venv}"
PROMPT="${1:-What is this project, according to @README.md?}"
[[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
pip_quiet() {  # pip's output only when it fails
  local log; log=$(mktemp)
  "$VENV/bin/python" -m pip install -q "$@" >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; return 1; }
  rm -f "$log"
}
pip_quiet --upgrade pip
pip_quiet -e .
if [[ -z "${OPENAI_BASE_URL:-}${CLAW_BASE_URL:-}" ]]; then
  bash scripts/install-local.sh "$VENV"
fi
exec "$VENV/bin/claw-lsp" ask "$PROMPT" --folder .
