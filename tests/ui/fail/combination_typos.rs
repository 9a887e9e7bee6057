// Several mistakes in one attribute: every one is reported, each on its own token.
use endpoint_sdk::prelude::*;

#[endpoint(
    gpu = RTX_4090,
    cpu = "cpu5c-4-8",
    workers = (5, 2),
    idle_timeout = 0,
    concurrency = 0,
    colour = 3,
    workers = 2,
    gpu_count = "two"
)]
async fn generate(prompt: String) -> String {
    prompt
}

fn main() {}
