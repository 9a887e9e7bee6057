// A callee's out-of-range timeout is one mistake: reported on the callee, not again as a
// caller/callee mismatch.
use endpoint_sdk::prelude::*;

#[endpoint(name = "child", cpu = "cpu3c-2-4", workers = (0, 8), execution_timeout_ms = 2_000)]
async fn child(ms: u64) -> u64 {
    ms
}

#[endpoint(name = "parent", cpu = "cpu3c-2-4", workers = (1, 2), execution_timeout_ms = 8_000,
           calls = [child])]
async fn parent(ms: u64) -> u64 {
    ms
}

fn main() {}
