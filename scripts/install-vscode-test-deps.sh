#!/usr/bin/env bash
# Installs what the VS Code extension build and its end-to-end tests need (TESTING.md §3):
#   apt: libkrb5-dev (code-server's kerberos module), chromium (driven by playwright-core)
#   npm: the extension's dependencies (editors/vscode/node_modules, `npm ci` from the lock file)
#        code-server@4.100.3 + playwright-core (tests/vscode/.deps/node_modules)
# Idempotent: every step checks whether its result is already there. Works offline apart from
# the apt and npm registries; must run as root on Debian 12 with node 20.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
EXTENSION_DIR="$REPO_ROOT/editors/vscode"
HARNESS_DIR="$REPO_ROOT/tests/vscode/.deps"
CODE_SERVER_VERSION="4.100.3"
PLAYWRIGHT_CORE_VERSION="1.65.1"
# @vscode/ripgrep's postinstall downloads this archive from GitHub unless it finds it cached.
RIPGREP_CACHE_DIR="${TMPDIR:-/tmp}/vscode-ripgrep-cache-1.15.11"
RIPGREP_ARCHIVE="$RIPGREP_CACHE_DIR/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"

log() { printf '[install-vscode-test-deps] %s\n' "$*"; }

# --- node: code-server 4.100.3 declares engines {node: "20"}; newer ones need 22+.
if ! command -v node >/dev/null 2>&1; then
  log "ERROR: node is not installed; install node 20 (e.g. nodesource nodejs 20.x) and rerun." >&2
  exit 1
fi
NODE_MAJOR="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$NODE_MAJOR" != "20" ]; then
  log "WARNING: node $(node --version) found; code-server $CODE_SERVER_VERSION is only known to work with node 20." >&2
fi

# --- apt packages (only the missing ones; apt-get update only when something is missing)
missing_apt=()
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing_apt+=(libkrb5-dev)
command -v chromium >/dev/null 2>&1 || missing_apt+=(chromium)
command -v g++ >/dev/null 2>&1 || missing_apt+=(g++)
command -v make >/dev/null 2>&1 || missing_apt+=(make)
command -v python3 >/dev/null 2>&1 || missing_apt+=(python3)
if [ "${#missing_apt[@]}" -gt 0 ]; then
  log "apt-get install ${missing_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing_apt[@]}"
fi

# --- pre-seed @vscode/ripgrep's download cache with a local rg
if [ ! -s "$RIPGREP_ARCHIVE" ]; then
  rg_binary=""
  for candidate in "$REPO_ROOT/.venv/bin/rg" "$(command -v rg || true)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then rg_binary="$candidate"; break; fi
  done
  if [ -z "$rg_binary" ]; then
    log "apt-get install ripgrep (needed to seed @vscode/ripgrep's cache)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q && apt-get install -y -q --no-install-recommends ripgrep
    rg_binary="$(command -v rg)"
  fi
  # The venv's rg may be a symlink or wrapper: copy the real file so the archive holds a binary.
  staging="$(mktemp -d)"
  cp -L "$rg_binary" "$staging/rg"
  mkdir -p "$RIPGREP_CACHE_DIR"
  tar czf "$RIPGREP_ARCHIVE" -C "$staging" rg
  rm -rf "$staging"
  log "seeded $RIPGREP_ARCHIVE from $rg_binary"
fi

# Settings that make native postinstalls work as root without extra downloads (TESTING.md §3).
export npm_config_unsafe_perm=true npm_config_nodedir=/usr npm_config_yes=true
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

# --- the extension's own dependencies, exactly as package-lock.json pins them: `npm ci` never
# rewrites the lock file (`npm install` would, leaving a fresh clone changed)
if [ ! -x "$EXTENSION_DIR/node_modules/.bin/esbuild" ] || [ "$EXTENSION_DIR/package-lock.json" -nt "$EXTENSION_DIR/node_modules/.package-lock.json" ]; then
  log "npm ci in $EXTENSION_DIR"
  (cd "$EXTENSION_DIR" && npm ci --no-audit --no-fund)
else
  log "extension dependencies already installed"
fi

# --- the test harness: code-server and playwright-core, outside the extension's package
mkdir -p "$HARNESS_DIR"
installed_code_server="$(node -p "try{require('$HARNESS_DIR/node_modules/code-server/package.json').version}catch{''}" 2>/dev/null || true)"
installed_playwright="$(node -p "try{require('$HARNESS_DIR/node_modules/playwright-core/package.json').version}catch{''}" 2>/dev/null || true)"
if [ "$installed_code_server" != "$CODE_SERVER_VERSION" ] || [ "$installed_playwright" != "$PLAYWRIGHT_CORE_VERSION" ]; then
  cat >"$HARNESS_DIR/package.json" <<JSON
{
  "name": "claw-vscode-test-harness",
  "private": true,
  "dependencies": {
    "code-server": "$CODE_SERVER_VERSION",
    "playwright-core": "$PLAYWRIGHT_CORE_VERSION"
  }
}
JSON
  log "npm install code-server@$CODE_SERVER_VERSION playwright-core@$PLAYWRIGHT_CORE_VERSION in $HARNESS_DIR (about a minute cold)"
  (cd "$HARNESS_DIR" && npm install --no-audit --no-fund)
else
  log "code-server $installed_code_server and playwright-core $installed_playwright already installed"
fi

"$HARNESS_DIR/node_modules/.bin/code-server" --version | head -1
log "done"
