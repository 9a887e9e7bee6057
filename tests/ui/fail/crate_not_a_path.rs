// `crate = ".."` takes the path the SDK is reachable under.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", crate = "my sdk", execution_timeout_ms = 10_000)]
async fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

fn main() {}
