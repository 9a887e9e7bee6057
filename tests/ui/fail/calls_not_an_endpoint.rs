// `calls` names a plain function, not an `#[endpoint]`.
use endpoint_sdk::prelude::*;

async fn fetch(url: String) -> String {
    url
}

#[endpoint(cpu = "cpu3c-2-4", calls = [fetch], execution_timeout_ms = 60_000)]
async fn orchestrate(url: String) -> String {
    fetch(url).await
}

fn main() {}
