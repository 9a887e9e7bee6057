// A scaler's value is at least 1.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", scaler = queue_delay(0), execution_timeout_ms = 10_000)]
async fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

fn main() {}
