// The `-fb` suffix is reserved by the platform.
use endpoint_sdk::prelude::*;

#[endpoint(name = "chat-fb", cpu = "cpu3c-2-4", execution_timeout_ms = 10_000)]
async fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

fn main() {}
