// The same variable in `env(..)` and in `secrets`.
use endpoint_sdk::prelude::*;

#[endpoint(
    cpu = "cpu3c-2-4",
    env(HF_TOKEN = "hf_abc"),
    secrets = [HF_TOKEN],
    execution_timeout_ms = 10_000
)]
async fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

fn main() {}
