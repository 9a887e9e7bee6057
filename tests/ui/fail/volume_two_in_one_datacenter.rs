// Only one network volume per data center.
use endpoint_sdk::prelude::*;

#[endpoint(
    gpu = ADA_24,
    datacenter = EU_RO_1,
    volume(name = "weights", size = 100),
    volume(name = "datasets", size = 200, datacenter = EU_RO_1),
    execution_timeout_ms = 60_000
)]
async fn generate(prompt: String) -> String {
    prompt
}

fn main() {}
