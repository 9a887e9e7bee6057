// A callee with no execution ceiling cannot fit inside its caller's.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", allow(no_execution_timeout))]
async fn crawl(url: String) -> String {
    url
}

#[endpoint(cpu = "cpu3c-2-4", calls = [crawl], execution_timeout_ms = 60_000)]
async fn orchestrate(url: String) -> String {
    url
}

fn main() {}
