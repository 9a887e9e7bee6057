// A worker runs at least one job at a time.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", concurrency = 0, execution_timeout_ms = 10_000)]
async fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

fn main() {}
