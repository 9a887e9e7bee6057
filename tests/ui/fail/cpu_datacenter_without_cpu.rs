// CPU workers are only offered in some data centers.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", datacenter = US_KS_2, execution_timeout_ms = 10_000)]
async fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

fn main() {}
