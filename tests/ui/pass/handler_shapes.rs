// Every supported handler shape, driven through the SDK's JSON interface: no input, one input
// (travels as itself), several inputs (travel as an object keyed by parameter name), `Ctx` by
// value and by reference, a plain return value, `Result<O, E>` with a serde error type, and no
// return type.
#![deny(deprecated)]

use std::fmt;

use endpoint_sdk::protocol::FailureKind;
use endpoint_sdk::prelude::*;
use endpoint_sdk::EndpointDef;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct Page {
    pub url: String,
    pub text: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub enum FetchError {
    NotFound { url: String },
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::NotFound { url } => write!(f, "{url} not found"),
        }
    }
}

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 10_000)]
async fn ping() -> String {
    "pong".to_string()
}

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 10_000)]
async fn tick() {}

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 10_000)]
async fn double(n: i64) -> i64 {
    n * 2
}

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 10_000)]
async fn fetch_page(page: Page) -> Page {
    page
}

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 10_000)]
async fn add(a: i64, b: i64, label: String) -> String {
    format!("{label}={}", a + b)
}

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 10_000)]
async fn whoami(ctx: Ctx) -> String {
    ctx.endpoint().to_string()
}

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 10_000)]
async fn scale(x: f64, ctx: &Ctx, factor: f64) -> f64 {
    assert!(!ctx.is_cancelled());
    x * factor
}

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 10_000)]
async fn fetch(url: String) -> Result<Page, FetchError> {
    if url.is_empty() {
        return Err(FetchError::NotFound { url });
    }
    Ok(Page {
        text: format!("fetched {url}"),
        url,
    })
}

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 10_000)]
async fn parse(text: String) -> std::result::Result<u32, String> {
    text.parse().map_err(|e| format!("{e}"))
}

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 10_000)]
async fn log(ctx: &Ctx, line: String) {
    let _ = (ctx, line);
}

async fn run<E: endpoint_sdk::Handler>(input: Value) -> Result<Value, endpoint_sdk::protocol::JobFailure> {
    let def = EndpointDef::of::<E>();
    let state = def.init().await.expect("no init");
    def.run(&state, Ctx::detached(E::NAME), input).await
}

#[tokio::main]
async fn main() {
    // The handlers are still plain functions.
    assert_eq!(add(1, 2, "sum".into()).await, "sum=3");
    assert_eq!(double(4).await, 8);

    assert_eq!(run::<ping>(json!({})).await.unwrap(), json!("pong"));
    assert_eq!(run::<ping>(json!({"__empty": true})).await.unwrap(), json!("pong"));
    assert_eq!(run::<tick>(json!({})).await.unwrap(), Value::Null);
    assert_eq!(run::<double>(json!(21)).await.unwrap(), json!(42));
    let page = json!({"url": "u", "text": "t"});
    assert_eq!(run::<fetch_page>(page.clone()).await.unwrap(), page);
    assert_eq!(
        run::<add>(json!({"a": 2, "b": 3, "label": "sum"})).await.unwrap(),
        json!("sum=5")
    );
    let missing = run::<add>(json!({"a": 2, "label": "sum"})).await.unwrap_err();
    assert_eq!(missing.kind, FailureKind::Input);
    assert!(missing.message.contains("`b`"), "{}", missing.message);
    assert_eq!(run::<whoami>(json!({})).await.unwrap(), json!("whoami"));
    assert_eq!(
        run::<scale>(json!({"x": 1.5, "factor": 2.0})).await.unwrap(),
        json!(3.0)
    );
    assert_eq!(
        run::<fetch>(json!("u")).await.unwrap(),
        json!({"url": "u", "text": "fetched u"})
    );
    let failed = run::<fetch>(json!("")).await.unwrap_err();
    assert_eq!(failed.kind, FailureKind::Handler);
    assert_eq!(failed.message, " not found");
    assert_eq!(failed.detail, Some(json!({"NotFound": {"url": ""}})));
    assert_eq!(run::<parse>(json!("12")).await.unwrap(), json!(12));
    assert_eq!(
        run::<parse>(json!("x")).await.unwrap_err().detail,
        Some(json!("invalid digit found in string"))
    );
    assert_eq!(run::<log>(json!("line")).await.unwrap(), Value::Null);
}
