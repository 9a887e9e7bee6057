// A misspelt key: the error names the key and suggests the closest valid one.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", workerz = (0, 2), execution_timeout_ms = 10_000)]
async fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

fn main() {}
