// A GPU priority list has at most three entries.
use endpoint_sdk::prelude::*;

#[endpoint(
    gpu = [ADA_24, AMPERE_24, ADA_32_PRO, AMPERE_48],
    min_vram_gb = 24,
    workers = (0, 5),
    execution_timeout_ms = 60_000
)]
async fn generate(prompt: String) -> String {
    prompt
}

fn main() {}
