// A GPU worker has 1 to 8 GPUs.
use endpoint_sdk::prelude::*;

#[endpoint(gpu = AMPERE_80, gpu_count = 0, execution_timeout_ms = 60_000)]
async fn generate(prompt: String) -> String {
    prompt
}

fn main() {}
