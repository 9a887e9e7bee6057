// The budget holds 4 sessions; 8 jobs at once would run the worker out of GPU memory.
use endpoint_sdk::prelude::*;

#[endpoint(
    gpu = NVIDIA_A100_80GB_PCIe,
    execution_timeout_ms = 120_000,
    concurrency = 8,
    model(preset = LLAMA_3_3_70B, weights = int4, context = 16_384, sessions = 4)
)]
async fn reason(q: String) -> String {
    q
}

fn main() {}
