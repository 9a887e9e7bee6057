// A callee must finish inside its caller's execution ceiling: `scrape` may run 60 s, as long as
// `orchestrate` itself.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 60_000)]
async fn scrape(url: String) -> String {
    url
}

#[endpoint(cpu = "cpu3c-2-4", calls = [scrape], execution_timeout_ms = 60_000)]
async fn orchestrate(url: String) -> String {
    url
}

fn main() {}
