// A handler is a free function; it cannot take `self`.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 10_000)]
async fn greet(&self, name: String) -> String {
    format!("Hello, {name}!")
}

fn main() {}
