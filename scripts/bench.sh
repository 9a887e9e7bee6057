#!/usr/bin/env bash
# The benchmarks, in release: /runsync (issue 3.6), the worker (issue 4.8), typed calls
# (issue 5.8), session checkpoints (issue 6.6). Each prints its tables with the baselines
# measured in the same run (the official Python SDK, a bare axum route, a direct call, a bare
# Redis SET). A few minutes in all; everything runs on
# 127.0.0.1 and stops by itself.
#
#   ./scripts/bench.sh                    # every benchmark
#   ./scripts/bench.sh --bench worker     # extra arguments go to `cargo bench`
#
# Knobs: BENCH_SECONDS (the measured window of runsync and calls), BENCH_COLD_RUNS (worker).
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/prereqs.sh
source scripts/prereqs.sh

cargo bench -p endpoint-bench "$@"
