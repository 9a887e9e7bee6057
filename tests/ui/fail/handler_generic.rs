// A handler's types travel as JSON and must be concrete.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 10_000)]
async fn echo<T: serde::Serialize>(value: T) -> T {
    value
}

fn main() {}
