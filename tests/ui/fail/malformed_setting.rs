// A key with no value before the comma. The setting is reported, and the next one is still
// checked (here `idle_timeout = 0`, out of range).
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", workers = , idle_timeout = 0, execution_timeout_ms = 10_000)]
async fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

fn main() {}
