// Environment variable names are ASCII.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", env(CLÉ = "valeur"), execution_timeout_ms = 10_000)]
async fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

fn main() {}
