// `ANY` already means every pool.
use endpoint_sdk::prelude::*;

#[endpoint(gpu = [ADA_24, ANY], min_vram_gb = 24, workers = (0, 5), execution_timeout_ms = 60_000)]
async fn generate(prompt: String) -> String {
    prompt
}

fn main() {}
