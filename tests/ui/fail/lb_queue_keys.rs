// Keys that mean nothing without a queue, on a load-balancing endpoint: each refused with what
// to use instead; and a timeout past the platform's 5.5-minute cap on a request.
use endpoint_sdk::axum::Router;
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", concurrency = 4, scaler = queue_delay(2), plain_input,
           execution_timeout_ms = 600_000)]
fn chat() -> Router {
    Router::new()
}

fn main() {}
