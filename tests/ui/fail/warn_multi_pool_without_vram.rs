// Warning (denied here): a selection from 24 GB to 80 GB cards, and no `min_vram_gb` to check
// the model fits the smallest.
#![deny(deprecated)]
use endpoint_sdk::prelude::*;

#[endpoint(gpu = [AMPERE_80, ADA_24], workers = (0, 5), execution_timeout_ms = 60_000)]
async fn generate(prompt: String) -> String {
    prompt
}

fn main() {}
