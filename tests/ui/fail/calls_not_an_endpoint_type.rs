// `calls` names a type that is not an `#[endpoint]`.
use endpoint_sdk::prelude::*;

struct Fetcher;

#[endpoint(cpu = "cpu3c-2-4", calls = [Fetcher], execution_timeout_ms = 60_000)]
async fn orchestrate(url: String) -> String {
    let _ = Fetcher;
    url
}

fn main() {}
