// The blueprint's orchestrator: a 70B at 4-bit on an A100 80GB. The budget decides its sessions
// (and so its concurrency) and its VRAM floor; the figures may also be given directly.
use endpoint_sdk::prelude::*;

#[endpoint(
    gpu = NVIDIA_A100_80GB_PCIe,
    workers = (3, 20),
    execution_timeout_ms = 120_000,
    model(preset = LLAMA_3_3_70B, weights = int4, context = 16_384)
)]
async fn orchestrate(q: String) -> String {
    q
}

#[endpoint(
    gpu = ADA_24,
    execution_timeout_ms = 60_000,
    model(params_m = 7_620, layers = 28, kv_heads = 4, head_dim = 128, kv = fp8, sessions = 4)
)]
async fn draft(q: String) -> String {
    q
}

fn main() {
    let m = orchestrate::CONFIG.model.as_ref().unwrap();
    assert_eq!(m.sessions, 6, "(72 − 37.8 GB of weights) / 5 GB per session");
    assert_eq!(orchestrate::CONFIG.concurrency, 6);
    assert_eq!(orchestrate::CONFIG.min_vram_gb, Some(76), "67.8 GB at 90 %");
    assert_eq!(draft::CONFIG.model.as_ref().unwrap().kv_bits, 8);
    assert_eq!(draft::CONFIG.concurrency, 4);
}
