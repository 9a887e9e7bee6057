// The selection may land on a 24 GB card (the L4 of AMPERE_24), where a 32B model at fp8 does
// not fit, even though it fits on the 48 GB cards.
use endpoint_sdk::prelude::*;

#[endpoint(
    gpu = [AMPERE_48, AMPERE_24],
    workers = (0, 5),
    execution_timeout_ms = 120_000,
    model(preset = QWEN2_5_32B, weights = fp8, sessions = 2)
)]
async fn code(q: String) -> String {
    q
}

fn main() {}
