// A volume has `name`, `size` and `datacenter`.
use endpoint_sdk::prelude::*;

#[endpoint(
    gpu = ADA_24,
    datacenter = EU_RO_1,
    volume(name = "weights", size_gb = 100, mount = "/models"),
    execution_timeout_ms = 60_000
)]
async fn generate(prompt: String) -> String {
    prompt
}

fn main() {}
