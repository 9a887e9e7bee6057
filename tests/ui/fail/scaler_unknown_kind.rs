// A scaler that does not exist (a typo of `request_count`).
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", scaler = request_cnt(3), execution_timeout_ms = 10_000)]
async fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

fn main() {}
