//! Calls to an endpoint built elsewhere (`#[external(api = openai)]`): an OpenAI-compatible
//! chat server written here (it streams, stalls, fails and breaks off on demand; the server is
//! not what is tested) and the guarantees every call has: tokens as they are written, a step of
//! `max_steps`, the caller's deadline, retries only while nothing reached the caller, the
//! declaration in `calls = [..]`, the trace, and clear errors when nothing says where it is.
//!
//! On the real clock: the server runs on a thread of its own, so a paused clock would jump past
//! every timeout while the test waits on its sockets. No test asserts a duration.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use endpoint_sdk::client::{ChatError, Client, RetryPolicy};
use endpoint_sdk::external;
use endpoint_sdk::local::LocalRuntime;
use endpoint_sdk::prelude::*;
use endpoint_sdk::protocol::JobStatus;
use serde_json::{Value, json};
use tokio::sync::Notify;

/// The model server, reached through `EXTERNAL_CHAT_TEST_URL` (set once, below).
#[external(
    url = env("EXTERNAL_CHAT_TEST_URL"),
    key = env("EXTERNAL_CHAT_TEST_KEY"),
    model = "test-model",
    execution_timeout_ms = 30_000
)]
pub struct llm;

/// Declared with nothing that says where it is.
#[external(execution_timeout_ms = 30_000)]
pub struct nowhere;

/// Has an address but names no model.
#[external(url = env("EXTERNAL_CHAT_TEST_URL"), execution_timeout_ms = 30_000)]
pub struct unnamed;

/// Nothing listens there (the discard port).
#[external(
    url = "http://127.0.0.1:9/v1",
    model = "m",
    execution_timeout_ms = 30_000
)]
pub struct closed;

/// Chats `rounds` times: a runaway agent for the step budget.
#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 60_000, max_steps = 2, calls = [llm])]
async fn looping_agent(ctx: Ctx, rounds: u32) -> Vec<String> {
    let mut said = Vec::new();
    for _ in 0..rounds {
        match llm::chat(&ctx).user("count looping").send().await {
            Ok(a) => said.push(a.content),
            Err(e) => {
                said.push(e.to_string());
                break;
            }
        }
    }
    said
}

/// Waits on a model that stalls mid-answer, with the platform's shortest ceiling.
#[endpoint(
    cpu = "cpu3c-2-4",
    execution_timeout_ms = 5_000,
    calls = [llm],
    allow(callee_timeout)
)]
async fn impatient(ctx: Ctx) -> Result<String, String> {
    llm::chat(&ctx)
        .user("stall impatient")
        .send()
        .await
        .map(|a| a.content)
        .map_err(|e| e.to_string())
}

/// Calls the model without declaring it.
#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 60_000)]
async fn sneaky(ctx: Ctx) -> Result<String, String> {
    match llm::chat(&ctx).user("count sneaky").send().await {
        Err(e @ ChatError::Undeclared { .. }) => Ok(e.to_string()),
        other => Err(format!("expected a refusal, got {other:?}")),
    }
}

/// What the server saw and does, shared with the tests.
#[derive(Default)]
struct Seen {
    /// Requests per key.
    requests: HashMap<String, usize>,
    /// The last request's headers and body per key.
    last: HashMap<String, (HeaderMap, Value)>,
    /// Keys whose stalled answer the client abandoned (the server saw the body dropped).
    abandoned: Vec<String>,
}

struct Server {
    seen: Mutex<Seen>,
    /// Opened by the tests: the rest of a `stream` answer.
    gates: Mutex<HashMap<String, Arc<Notify>>>,
}

fn server() -> &'static Server {
    static SERVER: OnceLock<&'static Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let server: &'static Server = Box::leak(Box::new(Server {
            seen: Mutex::default(),
            gates: Mutex::default(),
        }));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}/v1", listener.local_addr().unwrap());
        // SAFETY: every test calls `server()` before it does anything else, so no other thread
        // reads the environment while it is written (this runs once, inside the `OnceLock`).
        unsafe {
            std::env::set_var("EXTERNAL_CHAT_TEST_URL", url);
            std::env::set_var("EXTERNAL_CHAT_TEST_KEY", "sk-test-SUITE-SECRET");
        }
        // Its own runtime on its own thread: the tests' paused clocks do not reach it.
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let app = axum::Router::new().route(
                    "/v1/chat/completions",
                    axum::routing::post(move |h: HeaderMap, Json(b): Json<Value>| {
                        answer(server, h, b)
                    }),
                );
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, app).await.unwrap();
            });
        });
        server
    })
}

fn gate(key: &str) -> Arc<Notify> {
    server()
        .gates
        .lock()
        .unwrap()
        .entry(key.to_string())
        .or_default()
        .clone()
}

fn requests(key: &str) -> usize {
    server()
        .seen
        .lock()
        .unwrap()
        .requests
        .get(key)
        .copied()
        .unwrap_or(0)
}

/// An SSE event carrying one piece of the answer.
fn piece(text: &str) -> Bytes {
    let chunk =
        json!({"model": "test-model", "choices": [{"index": 0, "delta": {"content": text}}]});
    Bytes::from(format!("data: {chunk}\n\n"))
}

fn finish() -> Bytes {
    let chunk = json!({"model": "test-model", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]});
    Bytes::from(format!("data: {chunk}\n\ndata: [DONE]\n\n"))
}

fn sse(body: Body) -> Response {
    ([("content-type", "text/event-stream")], body).into_response()
}

/// Marks a key abandoned when the answer's body is dropped before its end.
struct Abandoned(&'static Server, String);

impl Drop for Abandoned {
    fn drop(&mut self) {
        self.0.seen.lock().unwrap().abandoned.push(self.1.clone());
    }
}

/// The answer to a request whose last message is `<mode> <key>`.
async fn answer(server: &'static Server, headers: HeaderMap, body: Value) -> Response {
    let said = body["messages"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_string();
    let (mode, key) = said.split_once(' ').unwrap_or((&said, ""));
    let key = key.to_string();
    let n = {
        let mut seen = server.seen.lock().unwrap();
        let n = seen.requests.entry(key.clone()).or_default();
        *n += 1;
        let n = *n;
        seen.last.insert(key.clone(), (headers, body.clone()));
        n
    };
    match mode {
        // "Hel", then the rest once the test opens the gate.
        "stream" => {
            let gate = gate(&key);
            let events = futures_util::stream::unfold(0, move |step| {
                let gate = gate.clone();
                async move {
                    let bytes = match step {
                        0 => piece("Hel"),
                        1 => {
                            gate.notified().await;
                            piece("lo")
                        }
                        2 => finish(),
                        _ => return None,
                    };
                    Some((Ok::<_, Infallible>(bytes), step + 1))
                }
            });
            sse(Body::from_stream(events))
        }
        // One JSON body, not streamed.
        "plain" => Json(json!({
            "model": "test-model",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "whole"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1},
        }))
        .into_response(),
        // Busy (503, Retry-After: 1) the first time, then an answer.
        "busy" if n == 1 => (
            StatusCode::SERVICE_UNAVAILABLE,
            [("retry-after", "1")],
            "no worker is ready",
        )
            .into_response(),
        "bad" => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": {"message": "messages must not be empty"}})),
        )
            .into_response(),
        // A piece, then the connection breaks.
        "cut" => {
            let events = futures_util::stream::unfold(0, |step| async move {
                match step {
                    0 => Some((Ok(piece("par")), 1)),
                    // Once the piece is on its way (so that the headers and it are sent).
                    1 => {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        Some((Err(std::io::Error::other("the worker died")), 2))
                    }
                    _ => None,
                }
            });
            sse(Body::from_stream(events))
        }
        // A piece, then nothing ever again; notes when the client goes away.
        "stall" => {
            let guard = Abandoned(server, key);
            let events = futures_util::stream::unfold((0, guard), |(step, guard)| async move {
                if step == 0 {
                    return Some((Ok::<_, Infallible>(piece("thinking")), (1, guard)));
                }
                std::future::pending::<()>().await;
                None
            });
            sse(Body::from_stream(events))
        }
        // "count" and the rest: "ok".
        _ => sse(Body::from_stream(futures_util::stream::iter([
            Ok::<_, Infallible>(piece("ok")),
            Ok(finish()),
        ]))),
    }
}

fn runtime() -> LocalRuntime {
    LocalRuntime::builder()
        .endpoint::<looping_agent>()
        .endpoint::<impatient>()
        .endpoint::<sneaky>()
        .build()
        .unwrap()
}

#[tokio::test]
async fn tokens_reach_the_caller_as_the_model_writes_them() {
    server();
    let client = Client::from_env();
    let mut stream = llm::chat(&client)
        .system("be brief")
        .user("stream first")
        .stream();
    // The server holds "lo" until the gate opens: the first piece arrives before the answer
    // is written.
    assert_eq!(stream.next_token().await.as_deref(), Some("Hel"));
    gate("first").notify_one();
    assert_eq!(stream.next_token().await.as_deref(), Some("lo"));
    let answer = stream.answer().await.unwrap();
    assert_eq!(answer.content, "Hello");
    assert_eq!(answer.finish_reason.as_deref(), Some("stop"));
    assert_eq!(answer.model.as_deref(), Some("test-model"));
    assert_eq!(answer.attempts, 1);

    // What went on the wire: the model, the messages, a streamed request, the key, the trace.
    let (headers, body) = server().seen.lock().unwrap().last["first"].clone();
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["stream"], true);
    assert_eq!(
        body["messages"][0],
        json!({"role": "system", "content": "be brief"})
    );
    assert_eq!(headers["authorization"], "Bearer sk-test-SUITE-SECRET");
    let traceparent = headers["traceparent"].to_str().unwrap();
    assert!(traceparent.contains(client.trace().id()), "{traceparent}");

    // Recorded in the caller's trace as a call of `llm`.
    let calls = client.trace().records();
    let call = calls
        .iter()
        .find(|c| c.endpoint == "llm")
        .expect("the call is recorded");
    assert_eq!(call.status, Some(JobStatus::Completed));
    assert!(
        traceparent.contains(&call.span_id.to_string()),
        "{traceparent}"
    );
}

#[tokio::test]
async fn an_answer_in_one_body_is_one_piece() {
    server();
    let a = llm::chat(&Client::from_env())
        .user("plain whole")
        .send()
        .await
        .unwrap();
    assert_eq!(a.content, "whole");
    assert_eq!(a.usage.unwrap().completion_tokens, 1);
}

#[tokio::test]
async fn each_chat_is_a_step_of_max_steps() {
    server();
    let rt = runtime();
    let st = rt
        .run_sync("looping_agent", json!(5).into(), Duration::from_secs(60))
        .await
        .unwrap();
    let said: Vec<String> = serde_json::from_value(st.output.unwrap()).unwrap();
    assert_eq!(said[..2], ["ok", "ok"], "{said:?}");
    assert!(
        said[2].contains("this job has made its 2 calls (`max_steps = 2`)"),
        "{said:?}"
    );
    assert_eq!(said.len(), 3);
    assert_eq!(requests("looping"), 2, "the third request was never sent");

    // A plain client's budget counts chats too.
    let c = Client::from_env().max_steps(1);
    llm::chat(&c)
        .user("count client-budget")
        .send()
        .await
        .unwrap();
    let e = llm::chat(&c)
        .user("count client-budget")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(e, ChatError::StepBudgetExhausted { limit: 1, .. }),
        "{e}"
    );
    assert_eq!(requests("client-budget"), 1);
}

#[tokio::test]
async fn the_callers_deadline_ends_a_stalled_answer() {
    server();
    let rt = runtime();
    let st = rt
        .run_sync("impatient", json!({}).into(), Duration::from_secs(60))
        .await
        .unwrap();
    // Either the request saw the deadline first and said so, or the job's ceiling stopped the
    // handler (they fall due together): in both, the job ended by its 5 s, not the model's.
    match st.status {
        JobStatus::Failed => {
            let e = st.error.unwrap().to_string();
            assert!(
                e.contains("did not finish within the caller's deadline"),
                "{e}"
            );
        }
        JobStatus::TimedOut => {}
        other => panic!("expected the deadline to end the job, got {other:?}: {st:?}"),
    }
    // The stalled request was abandoned: the server saw its answer dropped.
    let abandoned = || {
        server()
            .seen
            .lock()
            .unwrap()
            .abandoned
            .contains(&"impatient".to_string())
    };
    for _ in 0..200 {
        if abandoned() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(abandoned(), "the server still streams to nobody");
    assert_eq!(
        requests("impatient"),
        1,
        "a stalled answer is not asked again"
    );

    // The request's own limit, sooner than any deadline of the caller's, is named as such.
    let e = llm::chat(&Client::from_env())
        .user("stall hasty")
        .timeout(Duration::from_millis(300))
        .send()
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("did not finish within its own limit of 300 ms"),
        "{e}"
    );
}

#[tokio::test]
async fn a_busy_server_is_retried_and_the_retry_is_one_step() {
    server();
    let c = Client::from_env().max_steps(5);
    let a = llm::chat(&c).user("busy once").send().await.unwrap();
    assert_eq!((a.content.as_str(), a.attempts), ("ok", 2));
    assert_eq!(requests("once"), 2);
    assert_eq!(
        c.steps_left(),
        Some(4),
        "one call, one step, whatever its attempts"
    );
    let calls = c.trace().records();
    assert_eq!(calls.last().unwrap().attempts, 2);

    // Without retries, the 503 is the answer.
    let e = llm::chat(&c)
        .user("busy never")
        .retry(RetryPolicy::none())
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            ChatError::Status {
                status: 503,
                attempts: 1,
                ..
            }
        ),
        "{e}"
    );
}

#[tokio::test]
async fn nothing_is_retried_once_a_token_reached_the_caller_nor_a_bad_request() {
    server();
    let c = Client::from_env();
    let e = llm::chat(&c).user("cut midway").send().await.unwrap_err();
    assert!(matches!(e, ChatError::CutOff { tokens: 1, .. }), "{e}");
    assert!(e.to_string().contains("not retried"), "{e}");
    assert_eq!(requests("midway"), 1);

    let e = llm::chat(&c).user("bad request").send().await.unwrap_err();
    assert!(
        matches!(
            e,
            ChatError::Status {
                status: 400,
                attempts: 1,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("messages must not be empty"), "{e}");
    assert_eq!(requests("request"), 1);
}

#[tokio::test]
async fn an_undeclared_external_is_refused_before_anything_is_sent() {
    server();
    let st = runtime()
        .run_sync("sneaky", json!({}).into(), Duration::from_secs(60))
        .await
        .unwrap();
    let text = st.output.unwrap().as_str().unwrap().to_string();
    assert!(
        text.starts_with("endpoint `sneaky` calls `llm`, which is not in its `calls = [..]`"),
        "{text}"
    );
    assert_eq!(requests("sneaky"), 0);
}

#[tokio::test]
async fn an_external_without_an_address_or_model_says_what_to_set() {
    server();
    let e = nowhere::chat(&Client::from_env())
        .user("hi")
        .send()
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, ChatError::NotConfigured { .. }), "{text}");
    assert!(text.contains("ENDPOINT_ID_NOWHERE"), "{text}");
    assert!(text.contains("ENDPOINT_URL_NOWHERE"), "{text}");

    let e = unnamed::chat(&Client::from_env())
        .user("count unnamed")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(e, ChatError::NoModel { .. }), "{e}");
    assert!(e.to_string().contains(".model("), "{e}");
    assert_eq!(requests("unnamed"), 0);
}

#[tokio::test]
async fn an_unreachable_server_is_retried_then_named() {
    server();
    let e = closed::chat(&Client::from_env())
        .user("hi")
        .send()
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(
        matches!(e, ChatError::Unreachable { attempts: 3, .. }),
        "{text}"
    );
    assert!(
        text.contains("http://127.0.0.1:9/v1/chat/completions"),
        "{text}"
    );
}
