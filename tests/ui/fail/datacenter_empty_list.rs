// An empty data center list allows no data center.
use endpoint_sdk::prelude::*;

#[endpoint(gpu = ADA_24, datacenter = [], execution_timeout_ms = 60_000)]
async fn generate(prompt: String) -> String {
    prompt
}

fn main() {}
