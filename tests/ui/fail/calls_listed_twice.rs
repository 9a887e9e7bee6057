// The same callee twice.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 30_000)]
async fn scrape(url: String) -> String {
    url
}

#[endpoint(cpu = "cpu3c-2-4", calls = [scrape, scrape], execution_timeout_ms = 60_000)]
async fn orchestrate(url: String) -> String {
    url
}

fn main() {}
