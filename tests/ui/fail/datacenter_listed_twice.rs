// The same data center twice, once as an identifier and once as a string.
use endpoint_sdk::prelude::*;

#[endpoint(gpu = ADA_24, datacenter = [EU_RO_1, "EU-RO-1"], execution_timeout_ms = 60_000)]
async fn generate(prompt: String) -> String {
    prompt
}

fn main() {}
