// Warning (denied here): the platform only falls back along a GPU list from 5 max workers.
#![deny(deprecated)]
use endpoint_sdk::prelude::*;

#[endpoint(
    gpu = [ADA_24, AMPERE_24],
    min_vram_gb = 24,
    workers = (0, 3),
    execution_timeout_ms = 60_000
)]
async fn generate(prompt: String) -> String {
    prompt
}

fn main() {}
