// The endpoint runs in two data centers; the volume does not say which one it lives in.
use endpoint_sdk::prelude::*;

#[endpoint(
    gpu = ADA_24,
    datacenter = [EU_RO_1, US_KS_2],
    volume(name = "weights", size = 100),
    execution_timeout_ms = 60_000
)]
async fn generate(prompt: String) -> String {
    prompt
}

fn main() {}
