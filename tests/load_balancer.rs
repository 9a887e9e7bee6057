//! The local runtime's balancer in front of a load-balancing endpoint's simulated workers, with
//! the platform's semantics, on the paused clock with its real figures (cold starts, the idle
//! timeout, two minutes for "no workers available", five for a pinned worker, the per-request
//! cap): each worker with its own state, `X-Runpod-Worker-Id` on every answer, the three
//! affinity modes and their errors, scaling by requests in flight, and a worker killed mid-
//! request. Then over `app dev`'s real HTTP server: the path the app sees, server-sent events
//! arriving as they are written, and the balancer's answers for the wrong kind of endpoint.

mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use endpoint_sdk::axum::body::{Body, to_bytes};
use endpoint_sdk::axum::extract::{Request, State};
use endpoint_sdk::axum::response::Response;
use endpoint_sdk::axum::response::sse::{Event, Sse};
use endpoint_sdk::axum::routing::{any, get, post};
use endpoint_sdk::axum::{Json, Router};
use endpoint_sdk::local::LocalRuntime;
use endpoint_sdk::prelude::*;
use serde_json::{Value, json};
use support::TestServer;
use tokio::sync::Notify;
use tokio::time::Instant;

/// Workers born so far: each worker's state says which it was.
static BORN: AtomicU32 = AtomicU32::new(0);

/// A worker's own state: which worker it is, and how many requests it served.
pub struct Seat {
    born: u32,
    hits: AtomicU32,
}

async fn seat() -> Result<Seat, String> {
    Ok(Seat {
        born: BORN.fetch_add(1, Ordering::SeqCst),
        hits: AtomicU32::new(0),
    })
}

/// Gates the app waits on, by tag.
static GATES: Mutex<Option<HashMap<String, Arc<Notify>>>> = Mutex::new(None);

fn gate(tag: &str) -> Arc<Notify> {
    GATES
        .lock()
        .unwrap()
        .get_or_insert_with(HashMap::new)
        .entry(tag.to_string())
        .or_default()
        .clone()
}

#[endpoint(name = "chat", cpu = "cpu3c-2-4", workers = (0, 3), scaler = request_count(1),
           idle_timeout = 30, init = seat, execution_timeout_ms = 330_000)]
fn chat(seat: Arc<Seat>) -> Router {
    Router::new()
        .route("/hit", post(hit))
        .route("/hold/{tag}", post(hold))
        .route("/sse/{tag}", get(sse))
        .route("/seen/{*rest}", any(seen))
        .route("/whoami", get(whoami))
        .route("/ws", get(shout))
        .route("/size", post(size))
        .route(
            "/upload",
            post(size).layer(endpoint_sdk::axum::extract::DefaultBodyLimit::disable()),
        )
        .with_state(seat)
}

/// The body's length (axum's own 2 MB limit on `/size`, none on `/upload`).
async fn size(body: endpoint_sdk::axum::body::Bytes) -> String {
    body.len().to_string()
}

/// A WebSocket that answers each text message in capitals.
async fn shout(ws: endpoint_sdk::axum::extract::ws::WebSocketUpgrade) -> Response {
    use endpoint_sdk::axum::extract::ws::Message;
    ws.on_upgrade(|mut socket| async move {
        while let Some(Ok(Message::Text(t))) = socket.recv().await {
            let upper = t.to_uppercase();
            if socket.send(Message::Text(upper.into())).await.is_err() {
                break;
            }
        }
    })
}

/// What a request's `Ctx` and headers say.
async fn whoami(
    State(seat): State<Arc<Seat>>,
    ctx: Ctx,
    headers: endpoint_sdk::axum::http::HeaderMap,
) -> Json<Value> {
    let hits = seat.hits.fetch_add(1, Ordering::SeqCst) + 1;
    Json(json!({
        "born": seat.born,
        "hits": hits,
        "session": ctx.session_id(),
        "trace_id": ctx.trace_id(),
        "remaining_ms": ctx.remaining().map(|r| r.as_millis() as u64),
        "moved_from": headers.get("x-endpoint-moved-from").and_then(|v| v.to_str().ok()),
    }))
}

/// A queue endpoint that calls `chat` (declared) and reports what the request saw.
#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 400_000, calls = [chat])]
async fn asks_chat(ctx: Ctx) -> Result<Value, String> {
    let r = chat::client(&ctx)
        .get("/whoami")
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let mut v: Value = r.json().await.map_err(|e| e.to_string())?;
    v["caller_trace"] = json!(ctx.trace_id());
    Ok(v)
}

/// A queue endpoint that calls `chat` without declaring it.
#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 10_000)]
async fn sneaks_to_chat(ctx: Ctx) -> Result<u16, String> {
    match chat::client(&ctx).get("/whoami").send().await {
        Ok(r) => Ok(r.status()),
        Err(e) => Err(e.to_string()),
    }
}

async fn hit(State(seat): State<Arc<Seat>>) -> Json<Value> {
    let hits = seat.hits.fetch_add(1, Ordering::SeqCst) + 1;
    Json(json!({ "born": seat.born, "hits": hits }))
}

/// Answers once the gate `tag` opens: a request kept in flight.
async fn hold(axum_path: endpoint_sdk::axum::extract::Path<String>) -> &'static str {
    gate(&axum_path.0).notified().await;
    "released"
}

/// One event, then the rest once the gate `tag` opens.
async fn sse(
    axum_path: endpoint_sdk::axum::extract::Path<String>,
) -> Sse<impl futures_core::Stream<Item = Result<Event, std::convert::Infallible>>> {
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    let g = gate(&axum_path.0);
    tokio::spawn(async move {
        let _ = tx.send(Ok(Event::default().data("first"))).await;
        g.notified().await;
        let _ = tx.send(Ok(Event::default().data("second"))).await;
    });
    Sse::new(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)))
}

/// The path and query the app saw.
async fn seen(req: Request) -> String {
    req.uri().to_string()
}

/// A queue endpoint beside it.
#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 10_000)]
async fn double(x: u32) -> u32 {
    x * 2
}

fn runtime(cold_start: Duration) -> LocalRuntime {
    LocalRuntime::builder()
        .app::<chat>()
        .endpoint::<double>()
        .endpoint::<asks_chat>()
        .endpoint::<sneaks_to_chat>()
        .cold_start(cold_start)
        .build()
        .unwrap()
}

fn req(method: &str, path: &str, pin: Option<&str>) -> Request {
    let mut b = Request::builder().method(method).uri(path);
    if let Some(p) = pin {
        b = b.header("x-runpod-worker-id", p);
    }
    b.body(Body::empty()).unwrap()
}

async fn send(rt: &LocalRuntime, method: &str, path: &str, pin: Option<&str>) -> Response {
    rt.request("chat", req(method, path, pin)).await.unwrap()
}

fn worker_of(r: &Response) -> String {
    r.headers()["x-runpod-worker-id"]
        .to_str()
        .unwrap()
        .to_string()
}

async fn json_of(r: Response) -> Value {
    serde_json::from_slice(&to_bytes(r.into_body(), 1 << 20).await.unwrap()).unwrap()
}

/// A hit pinned (or not) as `pin`: its worker and that worker's state.
async fn hit_as(rt: &LocalRuntime, pin: Option<&str>) -> (String, Value) {
    let r = send(rt, "POST", "/hit", pin).await;
    assert_eq!(r.status(), 200);
    (worker_of(&r), json_of(r).await)
}

#[tokio::test(start_paused = true)]
async fn a_request_cold_starts_a_worker_and_every_answer_names_its_worker() {
    let rt = runtime(Duration::from_secs(20));
    assert!(
        rt.lb_workers("chat").unwrap().is_empty(),
        "scales from zero"
    );
    let started = Instant::now();
    let (worker, state) = hit_as(&rt, None).await;
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(20),
        "the cold start: {waited:?}"
    );
    assert_eq!(state["hits"], 1);
    assert_eq!(
        rt.lb_workers("chat").unwrap(),
        std::slice::from_ref(&worker)
    );
    // Warm now: the same worker, its state going on.
    let (again, state) = hit_as(&rt, None).await;
    assert_eq!((again, state["hits"].clone()), (worker, json!(2)));
    let h = rt.health("chat").unwrap();
    assert_eq!((h.workers.ready, h.jobs.completed), (1, 2));
}

#[tokio::test(start_paused = true)]
async fn a_soft_pin_keeps_a_conversation_on_its_worker_and_falls_back_when_it_cannot() {
    let rt = runtime(Duration::ZERO);
    let (first, _) = hit_as(&rt, None).await;
    for n in 2..5 {
        let (w, state) = hit_as(&rt, Some(&first)).await;
        assert_eq!(w, first);
        assert_eq!(state["hits"], n, "one worker's own state");
    }
    // An unknown worker: never fails because of the pin.
    let (w, _) = hit_as(&rt, Some("no-such-worker")).await;
    assert_eq!(w, first);
    // Its worker at capacity (request_count(1)): the request goes elsewhere.
    let held = tokio::spawn({
        let rt = rt.clone();
        async move { send(&rt, "POST", "/hold/soft", None).await }
    });
    support::until("the held request in flight", Duration::from_secs(5), || {
        (rt.health("chat").unwrap().jobs.in_progress == 1).then_some(())
    })
    .await;
    let (other, state) = hit_as(&rt, Some(&first)).await;
    assert_ne!(other, first, "fell back to another worker");
    assert_eq!(state["hits"], 1, "with a state of its own");
    gate("soft").notify_one();
    assert_eq!(held.await.unwrap().status(), 200);
}

#[tokio::test(start_paused = true)]
async fn a_strict_pin_waits_for_room_and_gets_worker_timeout_after_five_minutes() {
    let rt = runtime(Duration::ZERO);
    let (w, _) = hit_as(&rt, None).await;
    let pin = format!("strict {w}");
    let held = tokio::spawn({
        let (rt, pin) = (rt.clone(), pin.clone());
        async move { send(&rt, "POST", "/hold/strict", Some(&pin)).await }
    });
    support::until("in flight", Duration::from_secs(5), || {
        (rt.health("chat").unwrap().jobs.in_progress == 1).then_some(())
    })
    .await;
    // Room comes back within the wait: the pinned request is served by its worker.
    let waiting = tokio::spawn({
        let (rt, pin) = (rt.clone(), pin.clone());
        async move { hit_as(&rt, Some(&pin)).await }
    });
    tokio::time::sleep(Duration::from_secs(30)).await;
    gate("strict").notify_one();
    assert_eq!(held.await.unwrap().status(), 200);
    assert_eq!(waiting.await.unwrap().0, w);

    // No room for five minutes: worker_timeout.
    let held = tokio::spawn({
        let (rt, pin) = (rt.clone(), pin.clone());
        async move { send(&rt, "POST", "/hold/strict2", Some(&pin)).await }
    });
    support::until("in flight again", Duration::from_secs(5), || {
        (rt.health("chat").unwrap().jobs.in_progress == 1).then_some(())
    })
    .await;
    let started = Instant::now();
    let r = send(&rt, "POST", "/hit", Some(&pin)).await;
    assert_eq!(r.status(), 400);
    assert!(started.elapsed() >= Duration::from_secs(300));
    assert_eq!(json_of(r).await["error"], "worker_timeout");
    gate("strict2").notify_one();
    held.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn strict_to_a_gone_worker_is_refused_and_strict_resume_revives_a_retired_one() {
    let rt = runtime(Duration::from_secs(2));
    let (w, first) = hit_as(&rt, None).await;
    // Idle past the 30 s idle timeout, above the minimum of 0: retired.
    tokio::time::sleep(Duration::from_secs(31)).await;
    assert!(rt.lb_workers("chat").unwrap().is_empty(), "scaled down");
    let r = send(&rt, "POST", "/hit", Some(&format!("strict {w}"))).await;
    assert_eq!(r.status(), 404);
    assert_eq!(json_of(r).await["error"], "affinity_worker_gone");
    // strict-resume brings it back under its id, with a fresh state (its memory is gone).
    let (again, state) = hit_as(&rt, Some(&format!("strict-resume {w}"))).await;
    assert_eq!(again, w);
    assert_ne!(state["born"], first["born"], "a new state");
    assert_eq!(state["hits"], 1);
    // Killed: gone for good, even for strict-resume.
    assert!(rt.kill_worker("chat", &w).unwrap());
    let r = send(&rt, "POST", "/hit", Some(&format!("strict-resume {w}"))).await;
    assert_eq!(r.status(), 404);
}

#[tokio::test(start_paused = true)]
async fn with_no_worker_ready_for_two_minutes_the_answer_is_no_workers_available() {
    // A cold start longer than the balancer waits.
    let rt = runtime(Duration::from_secs(180));
    let started = Instant::now();
    let r = send(&rt, "POST", "/hit", None).await;
    assert_eq!(r.status(), 400);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(120) && waited < Duration::from_secs(130),
        "{waited:?}"
    );
    assert_eq!(json_of(r).await["error"], "no workers available");
    // The worker it started comes up; the next request is served.
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(send(&rt, "POST", "/hit", None).await.status(), 200);
}

#[tokio::test(start_paused = true)]
async fn the_scaler_adds_a_worker_per_request_in_flight_and_idle_ones_retire() {
    let rt = runtime(Duration::ZERO);
    let mut held = Vec::new();
    for i in 0..3 {
        let rt2 = rt.clone();
        held.push(tokio::spawn(async move {
            send(&rt2, "POST", &format!("/hold/scale{i}"), None).await
        }));
    }
    support::until("three requests in flight", Duration::from_secs(10), || {
        (rt.health("chat").unwrap().jobs.in_progress == 3).then_some(())
    })
    .await;
    let mut served_by: Vec<String> = Vec::new();
    for (i, h) in held.into_iter().enumerate() {
        gate(&format!("scale{i}")).notify_one();
        served_by.push(worker_of(&h.await.unwrap()));
    }
    served_by.sort();
    served_by.dedup();
    assert_eq!(served_by.len(), 3, "request_count(1): one worker each");
    tokio::time::sleep(Duration::from_secs(31)).await;
    assert!(
        rt.lb_workers("chat").unwrap().is_empty(),
        "back to the minimum"
    );
}

#[tokio::test(start_paused = true)]
async fn a_request_past_the_cap_is_524_and_a_body_over_30_mb_is_413() {
    let rt = runtime(Duration::ZERO);
    let started = Instant::now();
    let r = send(&rt, "POST", "/hold/never", None).await;
    assert_eq!(r.status(), 524);
    assert!(
        started.elapsed() >= Duration::from_secs(60),
        "the 60 s timeout"
    );
    assert_eq!(json_of(r).await["error"], "request_timeout");

    let big = Request::builder()
        .method("POST")
        .uri("/hit")
        .header("content-length", (31 * 1024 * 1024).to_string())
        .body(Body::empty())
        .unwrap();
    let r = rt.request("chat", big).await.unwrap();
    assert_eq!(r.status(), 413);
}

#[tokio::test(start_paused = true)]
async fn a_killed_worker_cuts_its_request_in_flight_with_502_and_loses_its_state() {
    let rt = runtime(Duration::ZERO);
    let (w, _) = hit_as(&rt, None).await;
    let held = tokio::spawn({
        let rt = rt.clone();
        async move { send(&rt, "POST", "/hold/killed", None).await }
    });
    support::until("in flight", Duration::from_secs(5), || {
        (rt.health("chat").unwrap().jobs.in_progress == 1).then_some(())
    })
    .await;
    assert!(rt.kill_worker("chat", &w).unwrap());
    let r = held.await.unwrap();
    assert_eq!(r.status(), 502);
    // The next request gets a new worker with a new state.
    let (next, state) = hit_as(&rt, Some(&w)).await;
    assert_ne!(next, w);
    assert_eq!(state["hits"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_http_the_app_sees_its_own_path_and_events_arrive_as_they_are_written() {
    let rt = runtime(Duration::ZERO);
    let server = TestServer::start(rt.clone(), None).await;
    let http = support::client();
    let seen = http
        .put(server.url("/lb/chat/seen/a/b?x=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(seen.status(), 200);
    assert!(seen.headers().contains_key("x-runpod-worker-id"));
    assert_eq!(seen.text().await.unwrap(), "/seen/a/b?x=1");

    // The second event is written only once the test has read the first.
    let mut events = http
        .get(server.url("/lb/chat/sse/http"))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    let first = tokio::time::timeout(Duration::from_secs(10), events.chunk())
        .await
        .expect("the first event before the rest is written")
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&first).contains("data: first"));
    gate("http").notify_one();
    let second = events.chunk().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&second).contains("data: second"));

    // The wrong kind of endpoint, each way round, and an unknown one.
    let r = http.get(server.url("/lb/double/x")).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "not allowed for QB API"
    );
    let r = http
        .post(server.url("/v2/chat/run"))
        .json(&json!({"input": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("load-balancing endpoint"));
    let r = http.get(server.url("/lb/nope/x")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let health: Value = http
        .get(server.url("/v2/chat/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        health["workers"]["ready"].as_u64().unwrap() >= 1,
        "{health}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_conversation_stays_on_its_worker_and_moves_with_a_word_when_it_is_gone() {
    let rt = runtime(Duration::from_secs(1));
    let conv = chat::client(&rt.client()).conversation("conv-1");
    let first = conv.get("/whoami").send().await.unwrap();
    let w = first.worker().unwrap().to_string();
    assert!(first.moved_from().is_none());
    let v: Value = first.json().await.unwrap();
    assert_eq!(v["session"], "conv-1", "the session reaches the app's ctx");
    for n in 2..4 {
        let r = conv.get("/whoami").send().await.unwrap();
        assert_eq!(r.worker(), Some(w.as_str()));
        assert_eq!(r.json::<Value>().await.unwrap()["hits"], n);
    }
    assert_eq!(conv.worker().as_deref(), Some(w.as_str()));

    // Its worker dies: the next turn lands elsewhere, says so, and the app is told.
    assert!(rt.kill_worker("chat", &w).unwrap());
    let moved = conv.get("/whoami").send().await.unwrap();
    assert_eq!(moved.moved_from(), Some(w.as_str()));
    let now_on = moved.worker().unwrap().to_string();
    assert_ne!(now_on, w);
    let v: Value = moved.json().await.unwrap();
    assert_eq!(
        v["hits"], 1,
        "a fresh worker: the session must be rehydrated"
    );
    assert_eq!(v["moved_from"], w.as_str());
    // And stays there.
    let r = conv.get("/whoami").send().await.unwrap();
    assert_eq!((r.worker(), r.moved_from()), (Some(now_on.as_str()), None));
}

#[tokio::test(start_paused = true)]
async fn the_balancers_own_answers_are_typed_errors() {
    let rt = runtime(Duration::from_secs(180));
    let c = chat::client(&rt.client());
    match c.post("/hit").send().await {
        Err(endpoint_sdk::client::LbError::Balancer { error, .. }) => {
            assert_eq!(
                error,
                endpoint_sdk::protocol::load_balancer::BalancerError::NoWorkers
            )
        }
        other => panic!(
            "expected no workers available: {:?}",
            other.map(|r| r.status())
        ),
    }
    // A request's own timeout ends its wait, and it is no longer counted.
    let started = Instant::now();
    match c.post("/hit").timeout(Duration::from_secs(10)).send().await {
        Err(endpoint_sdk::client::LbError::DeadlineExceeded { .. }) => {}
        other => panic!("expected its 10 s timeout: {:?}", other.map(|r| r.status())),
    }
    assert!(started.elapsed() < Duration::from_secs(11));
    assert_eq!(rt.health("chat").unwrap().jobs.in_queue, 0);
    // The app's own 404 is an answer, not a balancer error (once the worker the first request
    // started is up, 180 s in).
    tokio::time::sleep(Duration::from_secs(50)).await;
    let r = c.get("/nope").send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.error_for_status().await.is_err());
}

#[tokio::test(start_paused = true)]
async fn a_job_calling_a_load_balancing_endpoint_passes_its_deadline_and_trace_and_must_declare_it()
{
    let rt = runtime(Duration::ZERO);
    let opts = CallOptions::default().timeout(Duration::from_secs(20));
    let v = asks_chat::call_with(&rt.client(), opts).await.unwrap();
    let left = v["remaining_ms"].as_u64().unwrap();
    assert!(
        left <= 20_000,
        "the caller's 20 s, not chat's 330 s: {left}"
    );
    assert_eq!(v["trace_id"], v["caller_trace"], "one trace");
    let e = sneaks_to_chat::call(&rt.client()).await.unwrap_err();
    assert!(e.to_string().contains("does not declare"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_http_a_typed_client_reads_events_as_they_are_written() {
    let rt = runtime(Duration::ZERO);
    let server = TestServer::start(rt.clone(), None).await;
    let client = Client::http(endpoint_sdk::client::HttpRoutes::new(server.url("/v2")));
    let conv = chat::client(&client).conversation("conv-http");
    let r = conv.get("/sse/typed").send().await.unwrap();
    assert_eq!(r.status(), 200);
    let w = r.worker().unwrap().to_string();
    let mut events = r.events();
    let first = tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .expect("the first event before the rest is written")
        .unwrap()
        .unwrap();
    assert_eq!(first.data, "first");
    gate("typed").notify_one();
    assert_eq!(events.next().await.unwrap().unwrap().data, "second");
    assert!(events.next().await.is_none());
    let again = conv.get("/whoami").send().await.unwrap();
    assert_eq!(again.worker(), Some(w.as_str()), "pinned over HTTP too");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_passes_through_the_balancer() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let rt = runtime(Duration::ZERO);
    let server = TestServer::start(rt.clone(), None).await;
    let url = server.url("/lb/chat/ws").replacen("http://", "ws://", 1);
    let (mut ws, answer) = tokio_tungstenite::connect_async(url).await.unwrap();
    assert_eq!(answer.status(), 101);
    assert!(answer.headers().contains_key("x-runpod-worker-id"));
    for word in ["hello", "again"] {
        ws.send(Message::text(word)).await.unwrap();
        let echoed = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("an answer")
            .unwrap()
            .unwrap();
        assert_eq!(echoed.into_text().unwrap().as_str(), word.to_uppercase());
    }
    ws.close(None).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_request_abandoned_while_it_waits_is_no_longer_counted_and_the_pool_shrinks_back() {
    let rt = runtime(Duration::from_secs(20));
    let waiting = tokio::spawn({
        let rt = rt.clone();
        async move { send(&rt, "POST", "/hit", None).await }
    });
    support::until("the request waits", Duration::from_secs(5), || {
        (rt.health("chat").unwrap().jobs.in_queue == 1).then_some(())
    })
    .await;
    waiting.abort();
    let _ = waiting.await;
    assert_eq!(rt.health("chat").unwrap().jobs.in_queue, 0, "uncounted");
    // The worker it started comes up, idles past the 30 s idle timeout and retires.
    tokio::time::sleep(Duration::from_secs(20 + 31)).await;
    assert!(rt.lb_workers("chat").unwrap().is_empty());
}

/// POSTs `mb` megabytes to `path` chunked (no Content-Length) over a raw connection; the
/// answer's status and body.
async fn post_chunked(addr: &str, path: &str, mb: usize) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b'x'; 1 << 20];
    for _ in 0..mb {
        let sent = async {
            conn.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .await?;
            conn.write_all(&chunk).await?;
            conn.write_all(b"\r\n").await
        };
        // The server may answer (and close) before the rest is sent.
        if sent.await.is_err() {
            break;
        }
    }
    let _ = conn.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = conn.read_to_end(&mut answer).await;
    let text = String::from_utf8_lossy(&answer).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {text:?}"));
    let body = text
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_are_held_to_the_30_mb_limit_streamed_or_not_and_the_apps_own_limits_apply() {
    let rt = runtime(Duration::ZERO);
    let server = TestServer::start(rt.clone(), None).await;
    let addr = server.base.trim_start_matches("http://").to_string();
    let (status, body) = post_chunked(&addr, "/lb/chat/upload", 3).await;
    assert_eq!(status, 200);
    assert!(body.contains(&(3 << 20).to_string()), "{body}");
    // Streamed (no Content-Length) past 30 MB: the app's read fails as too large.
    let (status, _) = post_chunked(&addr, "/lb/chat/upload", 31).await;
    assert_eq!(status, 413);
    // The app's own limits are its own, as on the platform: axum's 2 MB default on `/size`
    // (app dev lifts its own limit, not the app's).
    let r = support::client()
        .post(server.url("/lb/chat/size"))
        .body(vec![b'x'; 3 << 20])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
}
