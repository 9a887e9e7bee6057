// Endpoint names have at most 64 characters.
use endpoint_sdk::prelude::*;

#[endpoint(
    name = "a-very-long-endpoint-name-that-goes-on-and-on-well-past-the-limit-of-the-platform",
    cpu = "cpu3c-2-4",
    execution_timeout_ms = 10_000
)]
async fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

fn main() {}
