// A quoted number where an integer is expected.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", idle_timeout = "300", execution_timeout_ms = 10_000)]
async fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

fn main() {}
