// `min_vram_gb` on a CPU endpoint.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu5c-4-8", min_vram_gb = 24, execution_timeout_ms = 10_000)]
async fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

fn main() {}
