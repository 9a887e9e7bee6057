// The minimum above the maximum.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", workers = (5, 2), execution_timeout_ms = 10_000)]
async fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

fn main() {}
