// A pool that does not exist.
use endpoint_sdk::prelude::*;

#[endpoint(gpu = AMPERE_32, execution_timeout_ms = 60_000)]
async fn generate(prompt: String) -> String {
    prompt
}

fn main() {}
