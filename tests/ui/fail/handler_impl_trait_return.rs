// The output travels as JSON from a concrete type.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 10_000)]
async fn greet(name: String) -> impl std::fmt::Display {
    format!("Hello, {name}!")
}

fn main() {}
