// A job has one stream: two `Chunks` parameters are refused.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 60_000)]
async fn tokens(a: Chunks<String>, b: Chunks<String>) -> u32 {
    let _ = (a, b);
    0
}

fn main() {}
