// A CPU endpoint's volume in a data center without CPU workers: no worker could mount it.
use endpoint_sdk::prelude::*;

#[endpoint(
    cpu = "cpu3c-2-4",
    volume(name = "cache", size = 50, datacenter = US_KS_2),
    execution_timeout_ms = 10_000
)]
async fn embed(text: String) -> String {
    text
}

fn main() {}
