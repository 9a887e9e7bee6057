// A load-balancing endpoint cannot be listed in `calls = [..]`: it takes HTTP requests, not
// typed jobs.
use endpoint_sdk::axum::Router;
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 30_000)]
fn chat() -> Router {
    Router::new()
}

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 60_000, calls = [chat])]
async fn orchestrate(ctx: Ctx) -> u32 {
    let _ = ctx;
    1
}

fn main() {}
