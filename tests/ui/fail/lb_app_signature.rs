// What a load-balancing endpoint's function cannot be: async, taking a request's `Ctx`, taking
// state without `init`.
use std::sync::Arc;

use endpoint_sdk::axum::Router;
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 30_000)]
async fn is_async() -> Router {
    Router::new()
}

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 30_000)]
fn takes_ctx(ctx: Ctx) -> Router {
    let _ = ctx;
    Router::new()
}

pub struct Model;

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 30_000)]
fn no_init(model: Arc<Model>) -> Router {
    let _ = model;
    Router::new()
}

fn main() {}
