// The same pool twice in a priority list.
use endpoint_sdk::prelude::*;

#[endpoint(
    gpu = [AMPERE_80, ADA_80_PRO, AMPERE_80],
    min_vram_gb = 80,
    workers = (0, 5),
    execution_timeout_ms = 60_000
)]
async fn generate(prompt: String) -> String {
    prompt
}

fn main() {}
