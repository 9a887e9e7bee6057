#!/usr/bin/env bash
# The chaos soak: `app dev` with external worker processes and a real Redis session store under
# mixed load (runsync, run and poll, streams, cancels, purges, retries, two-turn sessions,
# requests dropped mid-way, conversations with a load-balancing endpoint whose workers retire
# when idle) while workers are killed and restarted, Redis is restarted and clients drop
# connections and answers mid-stream. At the end: every accepted job reached one final state
# and kept it, no finished session step ran again, every conversation's turn streamed whole on
# the worker holding it (or moved, and said so), no panic in any log; the report shows app
# dev's memory and open file descriptors over the run. Exits 1 on any violation. Logs in
# target/soak/.
#
#   ./scripts/soak.sh              # 3 minutes
#   ./scripts/soak.sh 600          # 10 minutes
#   ./scripts/soak.sh --hours 2
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=180
if [[ "${1:-}" == "--hours" ]]; then
  seconds=$(( ${2:?--hours takes a number} * 3600 ))
elif [[ -n "${1:-}" ]]; then
  seconds=$1
fi

./scripts/install-redis.sh

cargo build --release -p endpoint-tests --bin soak --bin test-worker
exec ./target/release/soak "$seconds"
