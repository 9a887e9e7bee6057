#!/usr/bin/env bash
# Checks that no crate of the workspace has an import cycle among its modules.
# Needs cargo-modules (`cargo install cargo-modules --version 0.27.0 --locked`);
# see scripts/module_cycles.py for what counts as a cycle and why.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo-modules >/dev/null; then
    echo "cargo-modules is not installed: cargo install cargo-modules --version 0.27.0 --locked" >&2
    exit 2
fi
for crate in endpoint-sdk endpoint-config endpoint-macros; do
    printf '%s: ' "$crate"
    cargo modules dependencies --lib -p "$crate" \
        --no-fns --no-traits --no-types --no-externs --no-sysroot --no-owns 2>/dev/null |
        python3 scripts/module_cycles.py
done
