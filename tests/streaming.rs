//! Typed streams, end to end: a handler's `Chunks<T>` read by `E::stream(..)` as they are
//! written, in process and over HTTP, directly and through an orchestrator that relays them;
//! in order, each once; dropping the stream cancels the job; a callee failing mid-stream; and
//! the official Python client reading a stream from `app dev`'s server.
//!
//! Incremental delivery is proven, not timed: the handler sends its first chunk, then waits for
//! a gate that the test opens only after it has read that chunk. A reader that saw nothing
//! before the handler ended would never open it, and the test would fail at its time bound.

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use endpoint_sdk::client::HttpRoutes;
use endpoint_sdk::local::{LocalRuntime, RuntimeEvent};
use endpoint_sdk::prelude::*;
use endpoint_sdk::protocol::JobStatus;
use serde_json::json;
use support::TestServer;
use tokio::sync::Notify;

/// Gates the handlers wait on, by tag.
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

/// How long a test waits for what must happen (virtual time on the paused clock).
const BOUND: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Token {
    pub i: u32,
    pub text: String,
}

/// Streams `n` tokens: the first, then (after the test opens the gate `tag`) the rest.
#[endpoint(cpu = "cpu3c-2-4", workers = (0, 2), concurrency = 4, execution_timeout_ms = 60_000)]
async fn tokens(tokens: Chunks<Token>, tag: String, n: u32) -> Result<u32, String> {
    let send = |i: u32| {
        tokens.send(Token {
            i,
            text: format!("t{i}"),
        })
    };
    send(0).await.map_err(|e| e.to_string())?;
    gate(&tag).notified().await;
    for i in 1..n {
        send(i).await.map_err(|e| e.to_string())?;
    }
    Ok(n)
}

/// An orchestrator that relays `tokens`' stream into its own, in one line.
#[endpoint(cpu = "cpu3c-2-4", workers = (0, 2), concurrency = 4, execution_timeout_ms = 120_000,
           calls = [tokens])]
async fn relay(ctx: Ctx, out: Chunks<Token>, tag: String, n: u32) -> Result<u32, String> {
    out.forward(tokens::stream(&ctx, tag, n))
        .await
        .map_err(|e| e.to_string())
}

/// Streams two chunks, then fails with its own error.
#[endpoint(cpu = "cpu3c-2-4", workers = (0, 2), execution_timeout_ms = 60_000)]
async fn breaks(out: Chunks<u32>) -> Result<u32, String> {
    for i in 0..2 {
        out.send(i).await.map_err(|e| e.to_string())?;
    }
    Err("the model server went away".into())
}

/// Streams one chunk, then waits until it is cancelled.
#[endpoint(cpu = "cpu3c-2-4", workers = (0, 2), execution_timeout_ms = 60_000)]
async fn endless(ctx: Ctx, out: Chunks<u32>) -> u32 {
    let _ = out.send(1).await;
    ctx.cancelled().await;
    0
}

fn runtime() -> LocalRuntime {
    LocalRuntime::builder()
        .endpoint::<tokens>()
        .endpoint::<relay>()
        .endpoint::<breaks>()
        .endpoint::<endless>()
        .build()
        .unwrap()
}

/// Reads `n` tokens through `stream`, opening the gate `tag` once the first has arrived; then
/// the output.
async fn read_all<E>(mut stream: endpoint_sdk::client::CallStream<E>, tag: &str, n: u32)
where
    E: Endpoint<Chunk = Token, Output = u32, Error = String>,
{
    let first = tokio::time::timeout(BOUND, stream.next())
        .await
        .expect("the first chunk arrives while the handler still runs")
        .expect("a chunk")
        .unwrap();
    assert_eq!(first.i, 0);
    gate(tag).notify_one();
    let mut rest = Vec::new();
    while let Some(t) = tokio::time::timeout(BOUND, stream.next())
        .await
        .expect("the stream goes on")
    {
        rest.push(t.unwrap().i);
    }
    assert_eq!(
        rest,
        (1..n).collect::<Vec<_>>(),
        "every chunk once, in order"
    );
    assert_eq!(stream.output().await.unwrap(), n);
}

#[tokio::test(start_paused = true)]
async fn chunks_arrive_in_process_as_they_are_written_in_order_then_the_output() {
    let rt = runtime();
    read_all(
        tokens::stream(&rt.client(), "inproc".into(), 100),
        "inproc",
        100,
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn an_orchestrator_relays_its_callees_stream_as_it_is_written() {
    let rt = runtime();
    read_all(relay::stream(&rt.client(), "relay".into(), 20), "relay", 20).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunks_arrive_over_http_as_they_are_written_directly_and_through_a_relay() {
    let s = TestServer::start(runtime(), None).await;
    let c = Client::http(HttpRoutes::new(format!("{}/v2", s.base)));
    read_all(tokens::stream(&c, "http".into(), 50), "http", 50).await;
    read_all(relay::stream(&c, "http-relay".into(), 10), "http-relay", 10).await;
}

#[tokio::test(start_paused = true)]
async fn a_callee_failing_mid_stream_ends_the_stream_and_its_error_is_the_output() {
    let rt = runtime();
    let mut s = breaks::stream(&rt.client());
    let mut seen = Vec::new();
    while let Some(c) = s.next().await {
        seen.push(c.unwrap());
    }
    assert_eq!(seen, [0, 1]);
    assert_eq!(
        s.output().await.unwrap_err(),
        CallError::Endpoint("the model server went away".to_string())
    );
}

#[tokio::test(start_paused = true)]
async fn dropping_the_stream_cancels_the_job() {
    let rt = runtime();
    let mut events = rt.events();
    let mut s = endless::stream(&rt.client());
    assert_eq!(s.next().await.unwrap().unwrap(), 1);
    let id = s.id().expect("submitted").to_string();
    drop(s);
    let status = tokio::time::timeout(BOUND, async {
        loop {
            if let Ok(RuntimeEvent::JobFinished { job, status, .. }) = events.recv().await
                && *job == *id
            {
                return status;
            }
        }
    })
    .await
    .expect("the job ended");
    assert_eq!(status, JobStatus::Cancelled);
}

#[tokio::test(start_paused = true)]
async fn cancel_ends_the_job_before_it_returns_read_or_not() {
    let rt = runtime();
    let mut s = endless::stream(&rt.client());
    assert_eq!(s.next().await.unwrap().unwrap(), 1);
    let id = s.id().expect("submitted").to_string();
    s.cancel().await.expect("cancelled");
    let st = rt.status("endless", &id).expect("the job");
    assert_eq!(st.status, JobStatus::Cancelled, "{st:?}");

    // Never polled: the submit happens inside `cancel`, then its job is cancelled.
    let mut events = rt.events();
    endless::stream(&rt.client())
        .cancel()
        .await
        .expect("cancelled");
    let ended = tokio::time::timeout(BOUND, async {
        loop {
            if let Ok(RuntimeEvent::JobFinished { status, .. }) = events.recv().await {
                return status;
            }
        }
    })
    .await
    .expect("the second job ended");
    assert_eq!(ended, JobStatus::Cancelled);
}

#[tokio::test(start_paused = true)]
async fn stream_with_options_bounds_the_job_by_the_calls_timeout() {
    let rt = runtime();
    let opts = CallOptions::default().timeout(Duration::from_secs(6));
    let started = tokio::time::Instant::now();
    let mut s = endless::stream_with(&rt.client(), opts);
    assert_eq!(s.next().await.unwrap().unwrap(), 1);
    let id = s.id().expect("submitted").to_string();
    assert!(s.next().await.is_none(), "the stream ends with its job");
    match s.output().await {
        Err(CallError::TimedOut { .. }) => {}
        other => panic!("expected the call's 6 s timeout, not its 60 s ceiling: {other:?}"),
    }
    let st = rt.status("endless", &id).expect("the job");
    assert!(st.status.is_final(), "{st:?}");
    // On the paused clock: the job ended at the call's 6 s, long before its 60 s ceiling.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn a_stream_whose_submit_fails_ends_at_once_and_its_output_says_why() {
    let rt = LocalRuntime::builder()
        .endpoint::<tokens>()
        .build()
        .unwrap();
    let mut s = breaks::stream(&rt.client());
    assert!(s.next().await.is_none(), "no job, no chunk");
    let e = s.output().await.unwrap_err();
    assert!(
        matches!(
            &e,
            CallError::Rejected {
                status: Some(404),
                ..
            }
        ) && e.to_string().contains("breaks"),
        "{e}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_dropped_stream_is_in_its_callers_trace_with_its_job() {
    let rt = runtime();
    let c = rt.client();
    let mut s = endless::stream(&c);
    assert_eq!(s.next().await.unwrap().unwrap(), 1);
    let id = s.id().unwrap().to_string();
    drop(s);
    let record = c
        .trace()
        .records()
        .pop()
        .expect("a record of the dropped call");
    assert_eq!(record.job_id.as_deref(), Some(id.as_str()));
    assert!(record.error.unwrap().contains("dropped"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_client_reads_the_stream_as_it_is_written() {
    use tokio::io::AsyncBufReadExt;
    let s = TestServer::start(runtime(), None).await;
    let script = support::python::workspace_root().join("tests/python/stream_client.py");
    let mut child = tokio::process::Command::new(support::python::python())
        .arg(script)
        .arg(format!("{}/v2", s.base))
        .arg("tokens")
        .arg(r#"{"tag": "python", "n": 5}"#)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next = async || {
        let line = tokio::time::timeout(BOUND, lines.next_line())
            .await
            .expect("the Python client goes on")
            .unwrap()
            .expect("a line");
        serde_json::from_str::<serde_json::Value>(&line).unwrap()
    };
    assert!(next().await["id"].is_string());
    let first = next().await;
    assert_eq!(first["chunk"], serde_json::json!({"i": 0, "text": "t0"}));
    // Only now may the handler go on: the client saw its first chunk while it ran.
    gate("python").notify_one();
    let mut rest = Vec::new();
    loop {
        let line = next().await;
        match line.get("chunk") {
            Some(c) => rest.push(c["i"].as_u64().unwrap()),
            None => {
                assert_eq!(line["status"], "COMPLETED", "{line}");
                break;
            }
        }
    }
    assert_eq!(rest, [1, 2, 3, 4], "every chunk once, in order");
    assert!(child.wait().await.unwrap().success());
}

/// The runtime holds at most 8 MB of a job's stream that nobody has read: a handler that sends
/// with `Chunks::send` waits there (it neither fills memory nor loses a chunk) and goes on as
/// soon as the reader catches up.
#[tokio::test(start_paused = true)]
async fn a_stream_nobody_reads_holds_its_producer_back_and_loses_nothing() {
    use endpoint_tests::fast_tokens;
    const N: u32 = 200_000;
    let rt = LocalRuntime::builder()
        .endpoint::<fast_tokens>()
        .build()
        .unwrap();
    let id = rt.submit("fast_tokens", json!(N).into()).unwrap();
    tokio::time::sleep(Duration::from_secs(30)).await;
    let st = rt.status("fast_tokens", &id).unwrap();
    assert_eq!(st.status, JobStatus::InProgress, "held back: {st:?}");
    let (_, mut got) = rt.stream("fast_tokens", &id).unwrap();
    // 8 MB of u32 chunks, each counted as its JSON and 64 bytes of overhead: ~120 000.
    assert!(
        (100_000..130_000).contains(&got.len()),
        "{} chunks held",
        got.len()
    );
    loop {
        let (status, more) = tokio::time::timeout(
            BOUND,
            rt.stream_wait("fast_tokens", &id, Duration::from_secs(5)),
        )
        .await
        .expect("the producer goes on once read")
        .unwrap();
        got.extend(more);
        if status.is_final() {
            break;
        }
    }
    assert!(
        got.iter().map(|v| v.as_u64().unwrap()).eq(0..u64::from(N)),
        "every chunk once, in order"
    );
    let st = rt.status("fast_tokens", &id).unwrap();
    assert_eq!(st.output, Some(json!(N)), "{st:?}");
    // The dashboard keeps the unread chunks and a 1 MB tail of the read ones.
    let detail = rt.job_detail("fast_tokens", &id).unwrap();
    assert_eq!(
        detail.stream.last(),
        Some(&json!(N - 1)),
        "the newest chunks are kept"
    );
    assert_eq!(
        detail.stream_dropped + detail.stream.len() as u64,
        u64::from(N)
    );
    assert!(detail.stream.len() < 20_000, "{}", detail.stream.len());
}

/// A handler that streams without waiting (`ctx.stream`) while nobody reads cannot wait: past
/// 16 MB unread its job fails with an error that says why and what to do, and what it streamed
/// until then is still read in order.
#[tokio::test(start_paused = true)]
async fn a_handler_streaming_without_waiting_into_a_deaf_stream_fails_clearly() {
    use endpoint_tests::count;
    const N: u32 = 400_000;
    let rt = LocalRuntime::builder().endpoint::<count>().build().unwrap();
    let id = rt.submit("count", json!(N).into()).unwrap();
    let st = tokio::time::timeout(BOUND, rt.wait("count", &id, BOUND))
        .await
        .expect("the job ends")
        .unwrap();
    assert_eq!(st.status, JobStatus::Failed, "{st:?}");
    let error = st.error.unwrap_or_default();
    assert!(
        error.contains(&format!("/stream/{id}"))
            && error.contains("16 MB")
            && error.contains("Chunks::send"),
        "{error}"
    );
    let (_, got) = rt.stream("count", &id).unwrap();
    assert!(
        got.len() > 200_000 && got.len() < N as usize,
        "{}",
        got.len()
    );
    assert!(
        got.iter()
            .map(|v| v.as_u64().unwrap())
            .eq(0..got.len() as u64)
    );
}
