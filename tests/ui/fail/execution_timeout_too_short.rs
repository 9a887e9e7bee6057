// The platform's execution timeout is 5 s to 7 days.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 4_999)]
async fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

fn main() {}
