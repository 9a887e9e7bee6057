#!/usr/bin/env bash
# The binary a production image holds: the bench's echo application (a user's two endpoints and
# the README's `main`) built as `deploy --emit-dockerfile`'s image builds it, with
# `--features endpoint-sdk/worker-only`. Checks that it links with the worker's code layout
# (endpoint-sdk/build.rs: the `.text.worker` section), that it runs a job (`--test-input`), and
# that it refuses the development tools. Its own target directory: the feature must not reach
# the workspace's builds.
set -euo pipefail
cd "$(dirname "$0")/.."
target=target/worker-image
cargo build -q --manifest-path bench/apps/endpoint-sdk-echo/Cargo.toml \
  --features endpoint-sdk/worker-only --target-dir "$target"
bin="$target/debug/endpoint-sdk-echo"
fail() { echo "check-worker-image: $*" >&2; exit 1; }
if [ "$(uname -m)" = x86_64 ]; then
  grep -qa '\.text\.worker' "$bin" || fail "$bin has no .text.worker section: the layout was not linked"
fi
out=$(env -i PATH="$PATH" ENDPOINT_NAME=echo-c1 "$bin" --test-input '{"input": {"n": 7}}') \
  || fail "the test job failed: $out"
grep -q '"COMPLETED"' <<<"$out" || fail "the test job did not complete: $out"
grep -q '"n": 7' <<<"$out" || fail "the test job's output is not its input: $out"
if err=$("$bin" dev 2>&1); then fail "dev ran in a worker-only binary: $err"; fi
grep -q 'runs only as a worker' <<<"$err" || fail "dev was refused without saying why: $err"
echo "== the worker-only binary links its layout, runs a job and refuses dev"
