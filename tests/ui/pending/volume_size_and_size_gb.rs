// PENDING: `size` and its alias `size_gb` both set in one `volume(..)`. The duplicate check
// compares key spellings, so the second value silently wins instead of an error like
// "`size` is set twice in `volume(..)`".
use endpoint_sdk::prelude::*;

#[endpoint(
    gpu = ADA_24,
    datacenter = EU_RO_1,
    volume(name = "weights", size = 100, size_gb = 200),
    execution_timeout_ms = 60_000
)]
async fn generate(prompt: String) -> String {
    prompt
}

fn main() {}
