// The request-count scaler and an idle timeout: the platform refuses the combination.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", scaler = request_count(2), idle_timeout = 300, execution_timeout_ms = 10_000)]
async fn fetch(url: String) -> String {
    url
}

fn main() {}
