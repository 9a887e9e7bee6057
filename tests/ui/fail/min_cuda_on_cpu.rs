// `min_cuda_version` on a CPU endpoint.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu5c-4-8", min_cuda_version = "12.4", execution_timeout_ms = 10_000)]
async fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

fn main() {}
