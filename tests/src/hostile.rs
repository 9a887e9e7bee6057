//! Entry points that take input from outside, each driven the way its real caller drives it and
//! checked for what must hold whatever the input: no panic, no hang, no server error, a clear
//! answer. Shared by the property tests (`tests/hostile_input.rs`, in the test command) and the
//! fuzz targets (`fuzz/`, run by `scripts/fuzz.sh`).

use std::str::FromStr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request};
use endpoint_config::parse::parse_attr;
use endpoint_config::report::compile_tokens;
use endpoint_config::signature::{analyze, parse_handler};
use endpoint_config::tokens::config_expr;
use endpoint_config::{Diagnostics, validate};
use endpoint_sdk::BoxFuture;
use endpoint_sdk::local::LocalRuntime;
use endpoint_sdk::protocol::envelope;
use endpoint_sdk::protocol::job::{TakenEntry, read_take};
use endpoint_sdk::server::Server;
use endpoint_sdk::session::{SessionStore, Sessions, Snapshot, StoreError};
use proc_macro2::TokenStream;
use serde_json::Value;
use tower::ServiceExt;

/// The attribute's whole path at compile time, from its arguments and the item it is on:
/// parse, validate, read the signature, write the config and every diagnostic as tokens.
/// Text that does not lex as Rust tokens is what the compiler would refuse before the macro
/// runs, and is skipped.
pub fn attribute(args: &str, item: &str) {
    let Ok(args) = TokenStream::from_str(args) else {
        return;
    };
    let item = TokenStream::from_str(item).unwrap_or_default();
    let mut d = Diagnostics::new();
    let name = syn::Ident::new("handler", proc_macro2::Span::call_site());
    let parsed = parse_attr(args, &name, &mut d);
    let config = validate(&parsed.spec, &mut d);
    let _ = config_expr(&config, &quote::quote!(cfg), &[]);
    if let Ok(f) = parse_handler(item) {
        let _ = analyze(&f.sig, parsed.init.is_some(), &mut d);
    }
    for diag in d.iter() {
        let _ = compile_tokens(diag);
        assert!(!diag.message.is_empty(), "a diagnostic without a message");
    }
}

/// A request to `app dev`'s HTTP API as a client could send it.
#[derive(Debug, Clone)]
pub struct HttpInput {
    /// The method.
    pub method: Method,
    /// Path and query, as sent (may be anything).
    pub uri: String,
    /// The body.
    pub body: Vec<u8>,
    /// `Content-Type: application/json`.
    pub json: bool,
}

/// What `app dev` answered.
#[derive(Debug)]
pub struct HttpAnswer {
    /// The status.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
}

/// The endpoints the HTTP target serves: handlers whose work is bounded whatever their input
/// (`echo`, `greet`, `refuse`, `count`), and one that panics on demand (`panicky`). The others
/// of this crate sleep or allocate as much as their input asks, which is their business, not
/// the server's.
pub const SERVED: &[&str] = &["echo", "greet", "refuse", "count", "panicky"];

/// The process's tokio runtime and `app dev`'s router on it, built once: a fuzz target sends
/// millions of requests. Its clock is paused (virtual time, as in the runtime's tests): a long
/// poll or a worker's cold start passes in no real time, so each input costs its work only,
/// and a request that waits on nothing but time for [`HANG`] is caught at once.
pub fn served() -> &'static (tokio::runtime::Runtime, axum::Router) {
    static SERVED_APP: OnceLock<(tokio::runtime::Runtime, axum::Router)> = OnceLock::new();
    SERVED_APP.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .expect("a runtime");
        let router = rt.block_on(async {
            let runtime = endpoint_sdk::registry::endpoints()
                .into_iter()
                .filter(|d| SERVED.contains(&d.name()))
                .fold(LocalRuntime::builder(), |b, d| b.definition(d))
                // A worker's job-take and job-stop long polls answer at once when there is
                // nothing (the fuzzer sends millions of them).
                .options(endpoint_sdk::local::RuntimeOptions {
                    take_wait: Duration::from_millis(1),
                    ..Default::default()
                })
                .build()
                .expect("the registry is consistent");
            Server::new(runtime).router()
        });
        (rt, router)
    })
}

/// Sends `input` to `app dev`'s router (public API, worker job API, dev routes) in process, on
/// [`served`]'s runtime, and checks the answer: never a panic, never a 500, and an error answer
/// says what was wrong. `None` when the request does not parse as HTTP, or when it is a long
/// poll (`runsync`, `status-sync`, `stream`, `job-take`, ...) still waiting after `long_poll`;
/// any other request still unanswered after [`HANG`] is a hang, and fails.
pub fn http(input: HttpInput, long_poll: Duration) -> Option<HttpAnswer> {
    let (rt, router) = served();
    rt.block_on(send(router.clone(), input, long_poll))
}

/// How long an answer that is not a long poll may take before it counts as a hang (in process,
/// they take microseconds).
pub const HANG: Duration = Duration::from_secs(10);

async fn send(
    router: axum::Router,
    mut input: HttpInput,
    long_poll: Duration,
) -> Option<HttpAnswer> {
    // `{job}`: a job of `echo` submitted for this request.
    if input.uri.contains("{job}") {
        let run = Request::post("/v2/echo/run")
            .header("content-type", "application/json")
            .body(Body::from(r#"{"input": {"n": 1}}"#))
            .expect("a valid request");
        let answer = router.clone().oneshot(run).await.expect("infallible");
        let bytes = axum::body::to_bytes(answer.into_body(), 1 << 20)
            .await
            .ok()?;
        let id = serde_json::from_slice::<Value>(&bytes).ok()?["id"]
            .as_str()?
            .to_string();
        input.uri = input.uri.replace("{job}", &id);
    }
    let mut req = Request::builder().method(input.method.clone());
    req = req.uri(&input.uri);
    if input.json {
        req = req.header("content-type", "application/json");
    }
    let Ok(req) = req.body(Body::from(input.body.clone())) else {
        // Not a request the HTTP layer would pass on (a URI that does not parse).
        return None;
    };
    let is_long_poll = [
        "runsync",
        "status-sync",
        "stream",
        "job-take",
        "job-stop",
        "events",
    ]
    .iter()
    .any(|p| input.uri.contains(p));
    let limit = if is_long_poll { long_poll } else { HANG };
    let answer = match tokio::time::timeout(limit, router.oneshot(req)).await {
        Ok(answer) => answer.expect("the router is infallible"),
        Err(_) if is_long_poll => return None,
        Err(_) => panic!("{} {} hung past {limit:?}", input.method, input.uri),
    };
    let status = answer.status().as_u16();
    let body = axum::body::to_bytes(answer.into_body(), 64 * 1024 * 1024)
        .await
        .expect("an answer's body reads whole")
        .to_vec();
    assert_ne!(
        status,
        500,
        "{} {} answered 500: {}",
        input.method,
        input.uri,
        String::from_utf8_lossy(&body)
    );
    if status >= 400 && status != 404 && status != 405 {
        let text = String::from_utf8_lossy(&body);
        assert!(
            !text.trim().is_empty(),
            "{} {} answered {status} without saying why",
            input.method,
            input.uri
        );
    }
    Some(HttpAnswer { status, body })
}

/// The production worker's view of a job-take answer from the platform: the entries, and for
/// each job the envelope split from its input (session, deadline, trace context).
pub fn worker_take(body: &[u8]) {
    for entry in read_take(body) {
        if let TakenEntry::Job(job) = entry {
            let meta = envelope::meta(&job.input);
            let _ = meta.deadline.map(|d| d.remaining());
            let (_, inner) = envelope::split(job.input.clone());
            let _ = serde_json::to_vec(&inner);
        }
    }
}

/// A store that hands back whatever was stored, as a store shared with other builds (or
/// tampered with) could.
struct Stored(Snapshot);

impl SessionStore for Stored {
    fn open<'a>(
        &'a self,
        _id: &'a str,
        _version: &'a str,
        _ttl: Duration,
    ) -> BoxFuture<'a, Result<Snapshot, StoreError>> {
        let s = self.0.clone();
        Box::pin(async move { Ok(s) })
    }
    fn write<'a>(
        &'a self,
        _id: &'a str,
        _field: &'a endpoint_sdk::session::Field,
        _value: Vec<u8>,
        _limit: usize,
        _ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async { Ok(()) })
    }
    fn delete<'a>(&'a self, _id: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async { Ok(()) })
    }
    fn describe(&self) -> String {
        "stored values".into()
    }
}

/// A shape a handler might checkpoint.
#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
struct Checkpoint {
    step: u32,
    notes: Vec<String>,
    score: Option<f64>,
}

/// A session whose store holds `fields` (`step:<name>` or `kv:<key>` → bytes), read back as a
/// handler would: every step and key, as JSON and as a typed checkpoint. Bad bytes are a
/// `SessionError` that names the field, never a panic.
pub async fn session_values(fields: Vec<(String, Vec<u8>)>) {
    let mut snapshot = Snapshot::default();
    for (k, v) in &fields {
        snapshot.insert_stored(k, v.clone());
    }
    let sessions = Sessions::new(Arc::new(Stored(snapshot)), Default::default());
    let session = endpoint_sdk::session::Session::open(&sessions, "s", "1")
        .await
        .expect("the store answers");
    for name in session.resumed_steps().to_vec() {
        if let Err(e) = session.step_result::<Checkpoint>(&name) {
            assert!(e.to_string().contains(&name), "{e}");
        }
        let _ = session.step_result::<Value>(&name);
    }
    for (k, _) in &fields {
        if let Some(key) = k.strip_prefix("kv:") {
            if let Err(e) = session.get::<Checkpoint>(key) {
                assert!(!e.to_string().is_empty());
            }
            let _ = session.get::<Value>(key);
        }
    }
    let _ = session.size();
}
