// A data center the catalog leaves out on purpose: the reason and the nearest ones, not a typo fix.
use endpoint_sdk::prelude::*;

#[endpoint(gpu = ADA_24, datacenter = US_GA_2, min_vram_gb = 20, execution_timeout_ms = 60_000)]
async fn generate(prompt: String) -> String {
    prompt
}

fn main() {}
