// `secrets` names environment variables; `HF-TOKEN` is not a valid one.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", secrets = ["HF-TOKEN"], execution_timeout_ms = 10_000)]
async fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

fn main() {}
