// The platform's execution timeout is 5 s to 7 days (604_800_000 ms).
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 604_800_001)]
async fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

fn main() {}
