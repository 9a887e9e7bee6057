#!/usr/bin/env bash
# The test command: sets up what the tests need on a fresh machine (only the Rust toolchain is
# assumed), then checks formatting, lints and the docs' links, runs every test of the
# workspace, and checks that no log the tests produced holds a secret (scripts/check-logs.sh).
#
#   ./scripts/test.sh            # everything
#   ./scripts/test.sh -p endpoint-config   # extra arguments go to `cargo test`
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/prereqs.sh
source scripts/prereqs.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
echo "== the SDK without its default features (no OpenTelemetry)"
cargo clippy -p endpoint-sdk --no-default-features -- -D warnings
echo "== the SDK as production images build it (feature worker-only: main() is the worker alone)"
cargo clippy -p endpoint-sdk --features worker-only -- -D warnings
echo "== cargo doc (a broken or ambiguous link is an error)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet
echo "== cargo test"
# The logs the tests' processes write, and the run's own output: checked for secrets after.
rm -rf target/tmp/logs
mkdir -p target/tmp/logs
cargo test --workspace "$@" 2>&1 | tee target/tmp/logs/cargo-test.log
echo "== the binary of a production image (worker-only, with the worker's code layout)"
./scripts/check-worker-image.sh
echo "== no secret in any log"
./scripts/check-logs.sh
