// A scaler without its value.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", scaler = queue_delay, execution_timeout_ms = 10_000)]
async fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

fn main() {}
