// `init` names a constant, not a function.
use endpoint_sdk::prelude::*;

const MODEL: &str = "llama";

#[endpoint(gpu = ADA_24, init = MODEL, execution_timeout_ms = 60_000)]
async fn generate(prompt: String) -> String {
    prompt
}

fn main() {}
