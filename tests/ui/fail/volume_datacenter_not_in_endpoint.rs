// A worker can only mount a volume in its own data center.
use endpoint_sdk::prelude::*;

#[endpoint(
    gpu = ADA_24,
    datacenter = [US_KS_2, US_IL_1],
    volume(name = "weights", size = 100, datacenter = EU_RO_1),
    execution_timeout_ms = 60_000
)]
async fn generate(prompt: String) -> String {
    prompt
}

fn main() {}
