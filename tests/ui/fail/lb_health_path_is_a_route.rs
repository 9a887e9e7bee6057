// The health check's path is answered by the SDK on the app's port: a route there would never
// be reached.
use endpoint_sdk::axum::routing::get;
use endpoint_sdk::axum::Router;
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 30_000)]
fn chat() -> Router {
    Router::new()
        .route("/turn", get(|| async { "turn" }))
        .route("/ping", get(|| async { "pong" }))
}

#[endpoint(cpu = "cpu3c-2-4", health_path = "health", port = 0, execution_timeout_ms = 30_000)]
fn bad_settings() -> Router {
    Router::new()
}

fn main() {}
