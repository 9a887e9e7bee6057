// A 1-vCPU flavor cannot be created through Runpod's serverless API.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu5c-1-2", execution_timeout_ms = 10_000)]
async fn tiny(x: u32) -> u32 {
    x
}

fn main() {}
