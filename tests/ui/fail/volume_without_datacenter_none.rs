// The endpoint runs anywhere; the volume does not say which data center it lives in.
use endpoint_sdk::prelude::*;

#[endpoint(gpu = ADA_24, volume(name = "weights", size = 100), execution_timeout_ms = 60_000)]
async fn generate(prompt: String) -> String {
    prompt
}

fn main() {}
