#!/usr/bin/env bash
# Runs the fuzz targets in fuzz/ with cargo fuzz (libFuzzer, nightly): each for RUNS executions
# (default 1 000 000), or SECONDS seconds if set. Crashes land in fuzz/artifacts/<target>/;
# each one found becomes a regular test (tests/hostile_input.rs).
#
#   ./scripts/fuzz.sh                       # every target, 1M executions each
#   TARGETS="public_api" SECONDS_EACH=600 ./scripts/fuzz.sh
#
# Targets: attribute (the #[endpoint] parse-and-validate path), public_api (app dev's public
# routes, query strings and bodies), job_api (the worker job API: job-done, job-stream, ping,
# job-stop, job-take), worker_job (the production worker's reading of a job-take answer),
# session_value (a session's stored values read back).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "== installing cargo-fuzz (crates.io)"
  cargo install cargo-fuzz --locked
fi
if ! rustup toolchain list | grep -q '^nightly'; then
  echo "cargo fuzz needs a nightly toolchain: rustup toolchain install nightly" >&2
  exit 1
fi

targets=${TARGETS:-"attribute worker_job session_value job_api public_api"}
runs=${RUNS:-1000000}
limit=()
if [[ -n "${SECONDS_EACH:-}" ]]; then
  limit=(-max_total_time="$SECONDS_EACH")
else
  limit=(-runs="$runs")
fi
for t in $targets; do
  echo "== fuzz target $t"
  mkdir -p "fuzz/corpus/$t"
  # No sanitizer: the code under test is safe Rust; what is looked for is panics, hangs (a
  # 20 s timeout per input) and unbounded allocation (a 4 GB RSS limit).
  cargo +nightly fuzz run --sanitizer none --release "$t" "fuzz/corpus/$t" -- \
    "${limit[@]}" -timeout=20 -rss_limit_mb=4096 -max_len=8192 -print_final_stats=1 2>&1 \
    | grep -E "^(stat::|Done|#[0-9]+ *DONE|==[0-9]+==|SUMMARY|panicked|thread '|Test unit)" || true
  if compgen -G "fuzz/artifacts/$t/*" >/dev/null; then
    echo "!! $t: inputs that failed are in fuzz/artifacts/$t/" >&2
    exit 1
  fi
done
