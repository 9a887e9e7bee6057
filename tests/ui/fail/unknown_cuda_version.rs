// A CUDA version the platform does not offer.
use endpoint_sdk::prelude::*;

#[endpoint(gpu = ADA_24, min_cuda_version = "12.10", execution_timeout_ms = 60_000)]
async fn generate(prompt: String) -> String {
    prompt
}

fn main() {}
