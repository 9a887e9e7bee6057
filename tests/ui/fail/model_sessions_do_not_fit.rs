// Llama 3.1 8B at fp16 on a 24 GB card: 15 GB of weights leave 6.6 GB for the KV cache, and a
// 32k-token session takes 4 GB of it: 16 sessions do not fit.
use endpoint_sdk::prelude::*;

#[endpoint(
    gpu = NVIDIA_GEFORCE_RTX_4090,
    execution_timeout_ms = 120_000,
    model(preset = LLAMA_3_1_8B, context = 32_768, sessions = 16)
)]
async fn chat(q: String) -> String {
    q
}

fn main() {}
