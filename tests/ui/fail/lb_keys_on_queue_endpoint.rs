// Load-balancing settings on a queue endpoint.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", port = 8080, health_path = "/healthz", execution_timeout_ms = 30_000)]
async fn double(x: u32) -> u32 {
    x * 2
}

fn main() {}
