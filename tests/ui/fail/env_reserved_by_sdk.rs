// Variables the SDK writes itself cannot be set in `env(..)`.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", env(ENDPOINT_NAME = "other", ENDPOINT_ID_SCRAPE = "abc"), execution_timeout_ms = 10_000)]
async fn orchestrate(q: String) -> String {
    q
}

fn main() {}
