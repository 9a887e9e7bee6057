// A data center that does not exist.
use endpoint_sdk::prelude::*;

#[endpoint(gpu = ADA_24, datacenter = [US_KS_2, EU_RO_2], execution_timeout_ms = 60_000)]
async fn generate(prompt: String) -> String {
    prompt
}

fn main() {}
