// A fractional number where an integer is expected.
use endpoint_sdk::prelude::*;

#[endpoint(gpu = ADA_24, min_vram_gb = 20.5, execution_timeout_ms = 10_000)]
async fn generate(prompt: String) -> String {
    prompt
}

fn main() {}
