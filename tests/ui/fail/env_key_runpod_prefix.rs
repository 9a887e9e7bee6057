// `RUNPOD_` variables are set by the platform.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", env(RUNPOD_ENDPOINT_ID = "mine"), execution_timeout_ms = 10_000)]
async fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

fn main() {}
