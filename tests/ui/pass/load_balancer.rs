// A load-balancing endpoint: a function that builds an axum `Router`, with the worker's state
// from `init` (as `Arc<State>` or `&State`) or none; its settings and defaults; the app built
// through the SDK's erased interface serves a request.
#![deny(deprecated)]

use std::sync::Arc;

use endpoint_sdk::axum::routing::{get, post};
use endpoint_sdk::axum::Router;
use endpoint_sdk::config::{EndpointKind, Scaler};
use endpoint_sdk::prelude::*;
use endpoint_sdk::{EndpointDef, LoadBalanced};

pub struct Model {
    name: String,
}

fn load() -> Result<Model, String> {
    Ok(Model { name: "llama".into() })
}

#[endpoint(name = "chat", gpu = NVIDIA_A100_80GB_PCIe, workers = (1, 5), init = load,
           scaler = request_count(2), idle_timeout = 600, execution_timeout_ms = 300_000)]
pub fn chat(model: Arc<Model>) -> Router {
    Router::new().route("/turn", post(move || async move { model.name.clone() }))
}

#[endpoint(cpu = "cpu3c-2-4", init = load, port = 8080, health_port = 8081,
           health_path = "/ping", execution_timeout_ms = 30_000)]
fn by_ref(model: &Model) -> Router {
    let name = model.name.clone();
    // The health check has a port of its own here: the app may route `/ping`.
    Router::new().route("/ping", get(move || async move { name }))
}

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 30_000)]
fn stateless() -> Router {
    Router::new().route("/", get(|| async { "ok" }))
}

// A queue endpoint lists a load-balancing one in `calls` and reaches it with its HTTP client.
#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 400_000, calls = [chat])]
async fn asks(ctx: Ctx) -> Result<String, String> {
    let r = chat::client(&ctx).post("/turn").send().await.map_err(|e| e.to_string())?;
    r.text().await.map_err(|e| e.to_string())
}

#[tokio::main]
async fn main() {
    assert_eq!(<asks as Endpoint>::CONFIG.calls.as_ref(), ["chat"]);
    let config = <chat as LoadBalanced>::CONFIG;
    let EndpointKind::LoadBalancer(lb) = &config.kind else {
        panic!("a load-balancing endpoint");
    };
    assert_eq!((lb.port, lb.health_port, lb.health_path.as_ref()), (80, 80, "/ping"));
    assert_eq!(config.scaler, Scaler::RequestCount(2));
    assert_eq!(config.idle_timeout_s, 600);
    let lb = <by_ref as LoadBalanced>::CONFIG.load_balancer().unwrap();
    assert_eq!((lb.port, lb.health_port), (8080, 8081));
    assert_eq!(<stateless as LoadBalanced>::CONFIG.scaler, Scaler::RequestCount(4));

    let def = EndpointDef::app_of::<chat>();
    assert!(def.is_load_balancer());
    let state = def.init().await.expect("init succeeds");
    assert!(def.app(&state).is_some());
    let failed = def.run(&state, Ctx::detached("chat"), serde_json::json!({})).await;
    assert!(failed.unwrap_err().message.contains("serves HTTP requests, not jobs"));
    let _ = EndpointDef::app_of::<by_ref>().init().await.map(|s| EndpointDef::app_of::<by_ref>().app(&s));
    let _ = EndpointDef::app_of::<stateless>();
}
