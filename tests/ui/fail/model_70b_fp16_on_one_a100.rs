// A 70B model at fp16 is 131 GB of weights alone: one A100 80GB gives 72 GB to weights and
// cache. The error shows the arithmetic and the fixes that would fit.
use endpoint_sdk::prelude::*;

#[endpoint(
    gpu = NVIDIA_A100_80GB_PCIe,
    execution_timeout_ms = 120_000,
    model(preset = LLAMA_3_1_70B, weights = fp16, context = 8_192, sessions = 2)
)]
async fn reason(q: String) -> String {
    q
}

fn main() {}
