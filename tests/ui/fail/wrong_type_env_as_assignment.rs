// `env` is a list in parentheses, not `env = ..`.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", env = "HF_HOME=/runpod-volume/hf", execution_timeout_ms = 10_000)]
async fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

fn main() {}
