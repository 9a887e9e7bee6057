// With several input parameters the input travels as a JSON object keyed by parameter name, so
// each parameter needs a plain name.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 10_000)]
async fn add((a, b): (i64, i64), scale: i64) -> i64 {
    (a + b) * scale
}

fn main() {}
