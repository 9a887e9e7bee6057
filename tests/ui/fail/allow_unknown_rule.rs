// A misspelt rule in `allow(..)`.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", concurrency = 200, allow(high_concurency), execution_timeout_ms = 10_000)]
async fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

fn main() {}
