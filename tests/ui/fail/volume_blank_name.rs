// A network volume's name cannot be blank.
use endpoint_sdk::prelude::*;

#[endpoint(
    gpu = ADA_24,
    datacenter = EU_RO_1,
    volume(name = "   ", size = 100),
    execution_timeout_ms = 60_000
)]
async fn generate(prompt: String) -> String {
    prompt
}

fn main() {}
