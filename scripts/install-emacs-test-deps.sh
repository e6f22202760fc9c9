#!/usr/bin/env bash
# Makes sure batch Emacs with Debian's stock eglot is available for the Emacs suite
# (tests/emacs): apt packages emacs-nox and elpa-eglot (Emacs 28 + eglot 1.9 on Debian 12).
# Idempotent: does nothing when both are installed. Needs root and apt-get; otherwise it says
# so and the suite skips.
set -euo pipefail

have_eglot() { compgen -G "/usr/share/emacs/site-lisp/elpa/eglot-*" >/dev/null; }

if command -v emacs >/dev/null 2>&1 && have_eglot; then
  echo "install-emacs-test-deps: using $(emacs --version | head -n1) with $(basename /usr/share/emacs/site-lisp/elpa/eglot-*)"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1 || [[ $(id -u) != 0 ]]; then
  echo "install-emacs-test-deps: need root and apt-get to install emacs-nox elpa-eglot; the Emacs suite will skip" >&2
  exit 0
fi
echo "install-emacs-test-deps: apt-get install emacs-nox elpa-eglot"
apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq emacs-nox elpa-eglot >/dev/null
have_eglot || { echo "install-emacs-test-deps: eglot is still missing" >&2; exit 1; }
echo "install-emacs-test-deps: installed $(emacs --version | head -n1)"
