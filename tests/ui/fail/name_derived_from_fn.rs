// Without `name = ..`, the function's name is the endpoint's name, and `_private` is not a valid
// one: the error points at the function's name.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 10_000)]
async fn _private(name: String) -> String {
    format!("Hello, {name}!")
}

fn main() {}
