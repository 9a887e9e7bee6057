// A GPU list with several problems at once.
use endpoint_sdk::prelude::*;

#[endpoint(
    gpu = [ANY, ADA_24, ADA_24, AMPERE_81],
    gpu_count = 12,
    min_cuda_version = 11.2,
    workers = (0, 5),
    execution_timeout_ms = 60_000
)]
async fn generate(prompt: String) -> String {
    prompt
}

fn main() {}
