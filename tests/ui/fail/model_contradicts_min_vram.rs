// The budget of a 70B at int4 with 6 sessions of 16k tokens needs 76 GB of cards' memory at
// 90 %: `min_vram_gb = 40` says otherwise.
use endpoint_sdk::prelude::*;

#[endpoint(
    gpu = NVIDIA_A100_80GB_PCIe,
    execution_timeout_ms = 120_000,
    min_vram_gb = 40,
    model(preset = LLAMA_3_3_70B, weights = int4, context = 16_384, sessions = 6)
)]
async fn reason(q: String) -> String {
    q
}

fn main() {}
