// An empty GPU list selects nothing.
use endpoint_sdk::prelude::*;

#[endpoint(gpu = [], min_vram_gb = 24, execution_timeout_ms = 60_000)]
async fn generate(prompt: String) -> String {
    prompt
}

fn main() {}
