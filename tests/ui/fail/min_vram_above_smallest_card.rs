// The selection can land on a 24 GB card, below the 60 GB floor.
use endpoint_sdk::prelude::*;

#[endpoint(
    gpu = [ADA_24, AMPERE_80],
    min_vram_gb = 60,
    workers = (0, 5),
    execution_timeout_ms = 60_000
)]
async fn generate(prompt: String) -> String {
    prompt
}

fn main() {}
