// The same key twice: the second one is flagged.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", workers = 2, execution_timeout_ms = 10_000, workers = (0, 3))]
async fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

fn main() {}
