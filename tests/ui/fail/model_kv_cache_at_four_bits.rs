// Inference servers keep the KV cache at 16 or 8 bits: a 4-bit cache would promise sessions
// that no server can hold.
use endpoint_sdk::prelude::*;

#[endpoint(
    gpu = NVIDIA_GEFORCE_RTX_4090,
    execution_timeout_ms = 60_000,
    model(preset = LLAMA_3_1_8B, kv = int4)
)]
async fn chat(q: String) -> String {
    q
}

fn main() {}
