#!/usr/bin/env bash
# Install everything the tests need (Debian 12, as root, registries only) and run every suite:
# Python unit + end-to-end (pytest-lsp against the real server), the real llama.cpp smoke test,
# headless Neovim, batch Emacs with stock eglot, and real VS Code (code-server + Chromium). Idempotent; safe to re-run.
#
#   bash scripts/test-all.sh [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${CLAW_VENV:-.venv}"
start=$SECONDS
# The set-up must leave the checkout as it found it (a fresh clone stays clean): what git sees
# before the installs is compared with what it sees after them.
checkout_state() {
  git status --porcelain --untracked-files=all 2>/dev/null || true
  git diff --no-ext-diff 2>/dev/null | sha1sum  # changes to already-modified files too
}
before_setup="$(checkout_state)"

need_apt=()
command -v bwrap >/dev/null 2>&1 || need_apt+=(bubblewrap)
if ((${#need_apt[@]})) && command -v apt-get >/dev/null 2>&1 && [[ $(id -u) == 0 ]]; then
  echo "test-all: apt-get install ${need_apt[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [[ ! -x "$VENV/bin/python" ]]; then
  python3 -m venv "$VENV"
fi
pip_quiet() {  # pip's output only when it fails
  local log; log=$(mktemp)
  "$VENV/bin/python" -m pip install -q "$@" >"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; return 1; }
  rm -f "$log"
}
pip_quiet --upgrade pip
pip_quiet -e ".[dev]"
bash scripts/install-local.sh "$VENV"
bash scripts/install-neovim-test-deps.sh "$VENV"
bash scripts/install-emacs-test-deps.sh
bash scripts/install-vscode-test-deps.sh
echo "test-all: installs done in $((SECONDS - start)) s"
after_setup="$(checkout_state)"
if [[ "$before_setup" != "$after_setup" ]]; then
  echo "test-all: the set-up changed the checkout (tracked or unignored files):" >&2
  diff <(echo "$before_setup") <(echo "$after_setup") >&2 || true
  exit 1
fi

"$VENV/bin/ruff" check .
"$VENV/bin/lint-imports" --no-logo >/dev/null || "$VENV/bin/lint-imports" --no-logo
"$VENV/bin/mypy"
"$VENV/bin/ruff" format --check claw_lsp tests/e2e tests/support >/dev/null || {
  echo "test-all: ruff format would change files (run: $VENV/bin/ruff format claw_lsp tests)"; }
# Three workers on two cores: most tests wait on a subprocess (the server, an editor, a model),
# so this halves the run; a whole file stays on one worker (module fixtures, one editor each).
# CLAW_TEST_WORKERS=0 runs everything in this process.
"$VENV/bin/python" -m pytest -q -p no:cacheprovider -n "${CLAW_TEST_WORKERS:-3}" --dist loadfile "$@"
echo "test-all: finished in $((SECONDS - start)) s"
