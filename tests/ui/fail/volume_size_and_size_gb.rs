// `size` and `size_gb` are one setting of `volume(..)`: writing both is a duplicate.
use endpoint_sdk::prelude::*;

#[endpoint(
    gpu = ADA_24,
    datacenter = EU_RO_1,
    volume(name = "weights", size = 100, size_gb = 200),
    execution_timeout_ms = 60_000
)]
async fn generate(prompt: String) -> String {
    prompt
}

fn main() {}
