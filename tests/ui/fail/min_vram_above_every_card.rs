// No card has 200 GB; two GPUs per worker would.
use endpoint_sdk::prelude::*;

#[endpoint(gpu = ANY, min_vram_gb = 200, execution_timeout_ms = 60_000)]
async fn generate(prompt: String) -> String {
    prompt
}

fn main() {}
