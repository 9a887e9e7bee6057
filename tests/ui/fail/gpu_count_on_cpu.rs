// `gpu_count` on a CPU endpoint.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu5c-4-8", gpu_count = 2, execution_timeout_ms = 10_000)]
async fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

fn main() {}
