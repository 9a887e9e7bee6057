// A network volume is found or created by name, so it needs one.
use endpoint_sdk::prelude::*;

#[endpoint(
    gpu = ADA_24,
    datacenter = EU_RO_1,
    volume(size = 100),
    execution_timeout_ms = 60_000
)]
async fn generate(prompt: String) -> String {
    prompt
}

fn main() {}
