//! Typed calls between endpoints and from plain clients: both transports (in-process and HTTP),
//! the callee's error type arriving intact, a fan-out of 1 000, timeouts, lost workers, an
//! unreachable server, deadline clamping, cancellation reaching children (checked on the server
//! side), retries only where allowed, the step budget, and tracing.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use endpoint_sdk::EndpointDef;
use endpoint_sdk::client::{CallOptions, CallRecord, HttpRoutes, RetryPolicy};
use endpoint_sdk::local::{JobReport, LocalRuntime, RuntimeEvent};
use endpoint_sdk::prelude::*;
use endpoint_sdk::protocol::JobStatus;
use endpoint_sdk::protocol::RunRequest;
use serde::{Deserialize, Serialize};
use serde_json::json;
use support::TestServer;
use tokio::sync::broadcast;

/// The longest a test waits for an event (in virtual time on the paused clock).
const LONG: Duration = Duration::from_secs(600);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum SearchError {
    #[error("no results for {query:?}")]
    NoResults { query: String, tried: u32 },
    #[error("the index is rebuilding")]
    Rebuilding,
}

static SEARCH_CALLS: AtomicUsize = AtomicUsize::new(0);

/// A callee with its own error type.
#[endpoint(cpu = "cpu3c-2-4", workers = (0, 4), concurrency = 16, execution_timeout_ms = 30_000)]
async fn search(query: String) -> Result<Vec<String>, SearchError> {
    SEARCH_CALLS.fetch_add(1, Ordering::SeqCst);
    match query.as_str() {
        "" => Err(SearchError::NoResults { query, tried: 3 }),
        "rebuild" => Err(SearchError::Rebuilding),
        q => Ok(vec![format!("{q}-1"), format!("{q}-2")]),
    }
}

/// Several input parameters: travel as an object, called with plain arguments.
#[endpoint(cpu = "cpu3c-2-4", workers = (0, 4), concurrency = 64, execution_timeout_ms = 30_000)]
async fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Returns the trace id it runs under, and the span of the call that submitted it.
#[endpoint(cpu = "cpu3c-2-4", workers = (0, 2), execution_timeout_ms = 30_000)]
async fn whose_trace(ctx: Ctx) -> (String, Option<String>) {
    (
        ctx.trace_id().to_string(),
        ctx.parent_span_id().map(|s| s.to_string()),
    )
}

/// Sleeps `ms`.
#[endpoint(cpu = "cpu3c-2-4", workers = (0, 8), concurrency = 8, execution_timeout_ms = 60_000)]
async fn slow(ms: u64) -> u64 {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    ms
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Digest {
    pub hits: Vec<Vec<String>>,
    pub sum: i64,
    pub trace: String,
    pub span: String,
    pub parent: Option<String>,
    pub child_trace: String,
    /// The span the child says it descends from, and the one this job recorded for the call.
    pub child_parent: Option<String>,
    pub recorded: (String, String),
    pub calls: usize,
}

/// An orchestrator: a fan-out, a call with several parameters, and a traced call.
#[endpoint(cpu = "cpu3c-2-4", workers = (0, 2), execution_timeout_ms = 120_000,
           calls = [search, add, whose_trace])]
async fn digest(ctx: Ctx, topics: Vec<String>) -> Result<Digest, String> {
    let hits = search::fan_out(&ctx, topics)
        .await
        .into_iter()
        .map(|r| r.map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let sum = add::call(&ctx, 40, 2).await.map_err(|e| e.to_string())?;
    let (child_trace, child_parent) = whose_trace::call(&ctx).await.map_err(|e| e.to_string())?;
    let calls = ctx.calls();
    let last = calls.iter().find(|c| c.endpoint == "whose_trace").unwrap();
    Ok(Digest {
        hits,
        sum,
        trace: ctx.trace_id().to_string(),
        span: ctx.span_id().to_string(),
        parent: ctx.parent_span_id().map(|s| s.to_string()),
        child_trace,
        child_parent,
        recorded: (last.span_id.to_string(), last.parent_id.to_string()),
        calls: calls.len(),
    })
}

/// Waits on a long child (for cancellation and timeouts of callers).
#[endpoint(cpu = "cpu3c-2-4", workers = (0, 2), execution_timeout_ms = 120_000, calls = [slow])]
async fn waits_on_child(ctx: Ctx, ms: u64) -> Result<u64, String> {
    slow::call(&ctx, ms).await.map_err(|e| e.to_string())
}

/// Fans out with fail-fast: one child fails at once, the others are long.
#[endpoint(cpu = "cpu3c-2-4", workers = (0, 2), execution_timeout_ms = 120_000, calls = [search, slow])]
async fn fail_fast_parent(ctx: Ctx) -> Result<usize, String> {
    // A child still running when the parent fails: dropping its handle cancels it.
    let _running_child = slow::submit(&ctx, 20_000)
        .await
        .map_err(|e| e.to_string())?;
    let r = search::fan_out(&ctx, vec!["a".to_string(), "".to_string(), "c".to_string()])
        .concurrency(1)
        .fail_fast()
        .await;
    match r {
        Err(CallError::Endpoint(SearchError::NoResults { .. })) => Err("a child failed".into()),
        other => Ok(other.map(|v| v.len()).unwrap_or(0)),
    }
}

/// Calls in a loop: the runaway agent the step budget stops.
#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 60_000, max_steps = 5, calls = [add])]
async fn runaway(ctx: Ctx) -> Result<u32, String> {
    let mut made = 0;
    loop {
        match add::call(&ctx, 1, 1).await {
            Ok(_) => made += 1,
            Err(CallError::StepBudgetExhausted { limit, .. }) => {
                assert_eq!(ctx.steps_left(), Some(0));
                return Ok(made * 100 + limit);
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// Calls `add` without declaring it in `calls = [..]`: refused, as it would fail deployed.
#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 60_000, calls = [search])]
async fn undeclared(ctx: Ctx) -> Result<String, String> {
    let submitted = add::submit(&ctx, 1, 1).await.err().map(|e| e.to_string());
    match add::call(&ctx, 1, 1).await {
        Err(e @ CallError::Undeclared { .. }) => Ok(format!("{e}\n{submitted:?}")),
        other => Err(format!("expected a refusal, got {other:?}")),
    }
}

/// Reports progress and streams a chunk each second, then returns `n`.
#[endpoint(cpu = "cpu3c-2-4", workers = (0, 2), execution_timeout_ms = 60_000)]
async fn paced(ctx: Ctx, n: u32) -> u32 {
    for i in 0..n {
        ctx.progress(i);
        ctx.stream(i);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    n
}

fn runtime() -> LocalRuntime {
    LocalRuntime::builder()
        .endpoint::<search>()
        .endpoint::<add>()
        .endpoint::<whose_trace>()
        .endpoint::<slow>()
        .endpoint::<digest>()
        .endpoint::<waits_on_child>()
        .endpoint::<fail_fast_parent>()
        .endpoint::<runaway>()
        .endpoint::<undeclared>()
        .endpoint::<paced>()
        .build()
        .unwrap()
}

async fn next_finish(
    events: &mut broadcast::Receiver<RuntimeEvent>,
    endpoint: &str,
) -> (std::sync::Arc<str>, JobStatus) {
    tokio::time::timeout(LONG, async {
        loop {
            if let Ok(RuntimeEvent::JobFinished {
                endpoint: e,
                job,
                status,
                ..
            }) = events.recv().await
                && &*e == endpoint
            {
                return (job, status);
            }
        }
    })
    .await
    .expect("a job of the endpoint finished")
}

#[tokio::test(start_paused = true)]
async fn typed_round_trips_in_process_with_the_callees_error_intact() {
    let rt = runtime();
    let c = rt.client();
    assert_eq!(
        search::call(&c, "rust".into()).await.unwrap(),
        ["rust-1", "rust-2"]
    );
    assert_eq!(add::call(&c, 2, 3).await.unwrap(), 5);
    let before = SEARCH_CALLS.load(Ordering::SeqCst);
    match search::call(&c, String::new()).await {
        Err(CallError::Endpoint(e)) => assert_eq!(
            e,
            SearchError::NoResults {
                query: String::new(),
                tried: 3
            }
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        SEARCH_CALLS.load(Ordering::SeqCst) - before,
        1,
        "the callee's own error is never retried"
    );
    let record = c.trace().records().pop().unwrap();
    assert_eq!(
        (record.attempts, record.status),
        (1, Some(JobStatus::Failed))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_round_trips_over_http_with_the_callees_error_intact() {
    let s = TestServer::start(runtime(), None).await;
    let c = Client::http(HttpRoutes::new(format!("{}/v2", s.base)));
    assert_eq!(
        search::call(&c, "http".into()).await.unwrap(),
        ["http-1", "http-2"]
    );
    assert_eq!(add::call(&c, -2, 3).await.unwrap(), 1);
    assert_eq!(
        search::call(&c, "rebuild".into()).await.unwrap_err(),
        CallError::Endpoint(SearchError::Rebuilding)
    );
    // An orchestrator calling others in-process, driven over HTTP.
    let d = digest::call(&c, vec!["a".into(), "b".into()])
        .await
        .unwrap();
    assert_eq!(d.hits, [vec!["a-1", "a-2"], vec!["b-1", "b-2"]]);
    assert_eq!((d.sum, d.calls), (42, 4));
    assert_eq!(
        (&d.child_trace, &d.trace),
        (&d.trace, &c.trace().id().to_string()),
        "the client's trace id follows the job into its calls"
    );
    // Each link of the tree: client span → call → digest's job span → call → child's job.
    let to_digest = c.trace().records().pop().unwrap();
    assert_eq!(to_digest.parent_id, c.trace().span_id());
    assert_eq!(d.parent, Some(to_digest.span_id.to_string()));
    assert_eq!(d.recorded.1, d.span, "digest's calls are made in its span");
    assert_eq!(
        d.child_parent,
        Some(d.recorded.0.clone()),
        "the child descends from the call that submitted it"
    );
    // Errors of the platform itself are named.
    let e = search::call(
        &Client::http(HttpRoutes::new(format!("{}/v2", s.base)).id("search", "nope")),
        "x".into(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            &e,
            CallError::Rejected {
                status: Some(404),
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("ENDPOINT_ID_"), "{e}");
}

#[tokio::test(start_paused = true)]
async fn a_fan_out_of_1000_returns_every_result_in_input_order() {
    let rt = runtime();
    let c = rt.client();
    let pairs: Vec<(i64, i64)> = (0..1000).map(|i| (i, i * 10)).collect();
    let results = add::fan_out(&c, pairs.clone()).concurrency(64).await;
    assert_eq!(results.len(), 1000);
    for ((a, b), r) in pairs.iter().zip(results) {
        assert_eq!(r.unwrap(), a + b);
    }
    assert_eq!(
        c.trace().records().len(),
        1000,
        "every call is in the trace"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fan_out_over_http_returns_every_result_in_input_order() {
    let rt = runtime();
    let s = TestServer::start(rt.clone(), None).await;
    let http = Client::http(HttpRoutes::new(format!("{}/v2", s.base)));
    let results = search::fan_out(&http, (0..200).map(|i| format!("q{i}"))).await;
    for (i, r) in results.into_iter().enumerate() {
        assert_eq!(r.unwrap()[0], format!("q{i}-1"));
    }
}

#[tokio::test(start_paused = true)]
async fn a_callee_that_runs_past_its_ceiling_is_a_timeout() {
    let mut def = EndpointDef::of::<slow>();
    def.config.execution_timeout_ms = Some(5_000);
    let rt = LocalRuntime::builder().definition(def).build().unwrap();
    let c = rt.client();
    let id = match slow::call(&c, 30_000).await {
        Err(CallError::TimedOut {
            endpoint, job_id, ..
        }) => {
            assert_eq!(endpoint, "slow");
            job_id
        }
        other => panic!("{other:?}"),
    };
    let record = c.trace().records().pop().unwrap();
    assert_eq!(
        record.job_id,
        Some(id),
        "a timed-out call's record names its job"
    );
    // A wait bound of the caller's own ends the call too, and the job with it: the caller
    // cancels it, or the job's own deadline (the bound travels to it) stops it first.
    let rt = runtime();
    let mut events = rt.events();
    let opts = CallOptions::default().timeout(Duration::from_secs(5));
    assert!(matches!(
        slow::call_with(&rt.client(), opts, 30_000).await,
        Err(CallError::TimedOut { .. })
    ));
    let (_, status) = next_finish(&mut events, "slow").await;
    assert!(
        matches!(status, JobStatus::Cancelled | JobStatus::TimedOut),
        "{status:?}"
    );
}

/// Says how much time its job has, in milliseconds.
#[endpoint(cpu = "cpu3c-2-4", workers = (0, 2), execution_timeout_ms = 60_000)]
async fn budget(ctx: Ctx) -> u64 {
    ctx.remaining().map_or(u64::MAX, |r| r.as_millis() as u64)
}

#[tokio::test(start_paused = true)]
async fn a_calls_timeout_bounds_the_callee_like_a_deadline() {
    let rt = LocalRuntime::builder()
        .endpoint::<budget>()
        .build()
        .unwrap();
    let c = rt.client();
    assert_eq!(budget::call(&c).await.unwrap(), 60_000, "its own ceiling");
    let opts = CallOptions::default().timeout(Duration::from_secs(8));
    let left = budget::call_with(&c, opts).await.unwrap();
    assert!(
        (7_000..=8_000).contains(&left),
        "{left} ms: the caller's bound"
    );
}

#[tokio::test(start_paused = true)]
async fn a_lost_worker_is_retried() {
    // `search` is served by the test itself, through the runtime's job API: the first worker
    // takes the job and goes silent; after the platform's 30 s lost-worker window the job fails
    // (one attempt allowed) and the call retries it as a new job, which a second worker runs.
    let mut config = endpoint_sdk::config::EndpointConfig::new("search");
    config.execution_timeout_ms = Some(120_000);
    let rt = LocalRuntime::builder()
        .external_endpoint(config)
        .with_options(|o| o.max_attempts = 1)
        .build()
        .unwrap();
    let worker = tokio::spawn({
        let rt = rt.clone();
        async move {
            let take = |w: &'static str| {
                let rt = rt.clone();
                async move {
                    loop {
                        let jobs = rt
                            .job_take("search", w, 1, Duration::from_secs(20))
                            .await
                            .unwrap();
                        if let Some(job) = jobs.into_iter().next() {
                            return job;
                        }
                    }
                }
            };
            let first = take("vanishes").await;
            let second = take("reliable").await;
            assert_ne!(first.id, second.id, "the retry is a new job");
            rt.job_done(
                "search",
                "reliable",
                &second.id,
                JobReport::Output(json!(["found"])),
                false,
            )
            .unwrap();
        }
    });
    let c = rt.client();
    assert_eq!(search::call(&c, "q".into()).await.unwrap(), ["found"]);
    worker.await.unwrap();
    let record = c.trace().records().pop().unwrap();
    assert_eq!(
        record.attempts, 2,
        "the lost worker's failure was retried once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_is_a_transport_error_after_the_retries() {
    // Nothing listens here: retried, then reported as a transport error.
    let closed = Client::http(HttpRoutes::new("http://127.0.0.1:9/v2"));
    let e = search::call(&closed, "q".into()).await.unwrap_err();
    assert!(matches!(e, CallError::Transport { .. }), "{e:?}");
    assert!(e.is_retryable());
    assert_eq!(closed.trace().records().pop().unwrap().attempts, 3);

    // No retries when the policy says so.
    let once = Client::http(HttpRoutes::new("http://127.0.0.1:9/v2"))
        .options(CallOptions::default().retry(RetryPolicy::none()));
    assert!(search::call(&once, "q".into()).await.is_err());
    assert_eq!(once.trace().records().pop().unwrap().attempts, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_server_errors_are_retried() {
    let rt = runtime();
    let server = endpoint_sdk::server::Server::new(rt.clone());
    let failures = Arc::new(AtomicUsize::new(0));
    let seen = failures.clone();
    // The first two submits answer 503, as an overloaded platform would.
    let app = server.router().layer(axum::middleware::from_fn(
        move |req: axum::extract::Request, next: axum::middleware::Next| {
            let seen = seen.clone();
            async move {
                let submit =
                    req.uri().path().ends_with("/run") || req.uri().path().ends_with("/runsync");
                if submit && seen.fetch_add(1, Ordering::SeqCst) < 2 {
                    return axum::response::IntoResponse::into_response((
                        axum::http::StatusCode::SERVICE_UNAVAILABLE,
                        "busy",
                    ));
                }
                next.run(req).await
            }
        },
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v2", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let c = Client::http(HttpRoutes::new(base));
    assert_eq!(add::call(&c, 1, 1).await.unwrap(), 2);
    assert_eq!(c.trace().records().pop().unwrap().attempts, 3);
    assert_eq!(failures.load(Ordering::SeqCst), 3);
}

/// The route kinds (`run`, `status`, `status-sync`, ..) of the requests a server saw.
type Seen = Arc<std::sync::Mutex<Vec<String>>>;

/// A server for `runtime()` that records each request's route kind; without `long_poll` it
/// answers 404 to `/status-sync`, as a server without that route would.
async fn recording_server(rt: LocalRuntime, long_poll: bool) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let app = endpoint_sdk::server::Server::new(rt)
        .router()
        .layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| {
                let log = log.clone();
                async move {
                    // /v2/{endpoint}/{kind}/..
                    let kind = req.uri().path().split('/').nth(3).unwrap_or("").to_string();
                    log.lock().unwrap().push(kind.clone());
                    if !long_poll && kind == "status-sync" {
                        return axum::response::IntoResponse::into_response((
                            axum::http::StatusCode::NOT_FOUND,
                            "no such route",
                        ));
                    }
                    next.run(req).await
                }
            },
        ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v2", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_calls_long_poll_for_the_result_and_poll_status_where_there_is_no_long_poll() {
    // A job that ends within the /runsync wait (1 s) comes back in that one exchange.
    let (base, seen) = recording_server(runtime(), true).await;
    let c = Client::http(HttpRoutes::new(base));
    assert_eq!(slow::call(&c, 300).await.unwrap(), 300);
    assert_eq!(*seen.lock().unwrap(), ["runsync"]);
    seen.lock().unwrap().clear();
    // A longer one: the exchange names the job, and one long poll returns when it ends.
    assert_eq!(slow::call(&c, 1_500).await.unwrap(), 1_500);
    assert_eq!(slow::call(&c, 1_500).await.unwrap(), 1_500);
    assert_eq!(
        *seen.lock().unwrap(),
        ["runsync", "status-sync", "runsync", "status-sync"]
    );

    // Without it: the first call learns so and polls /status; the next polls at once.
    let (base, seen) = recording_server(runtime(), false).await;
    let c = Client::http(HttpRoutes::new(base));
    assert_eq!(slow::call(&c, 1_500).await.unwrap(), 1_500);
    assert_eq!(slow::call(&c, 1_500).await.unwrap(), 1_500);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen.iter().filter(|k| *k == "status-sync").count(),
        1,
        "{seen:?}"
    );
    assert_eq!(
        seen.iter().filter(|k| *k == "runsync").count(),
        2,
        "{seen:?}"
    );
    assert!(
        seen.iter().filter(|k| *k == "status").count() >= 2,
        "{seen:?}"
    );
    assert_eq!(seen[1], "status-sync", "{seen:?}");
}

#[tokio::test(start_paused = true)]
async fn a_childs_timeout_is_clamped_to_the_callers_remaining_budget() {
    let rt = runtime();
    let mut events = rt.events();
    // The parent gets an 8 s budget (its ceiling is 120 s); the child's own ceiling is 60 s.
    let req = RunRequest {
        input: json!(10),
        policy: Some(endpoint_sdk::protocol::Policy {
            execution_timeout: Some(8_000),
            ..Default::default()
        }),
        ..RunRequest::default()
    };
    let st = rt.run_sync("waits_on_child", req, LONG).await.unwrap();
    assert_eq!(st.status, JobStatus::Completed, "{st:?}");
    let child_timeout = loop {
        match events.recv().await.unwrap() {
            RuntimeEvent::JobQueued {
                endpoint,
                execution_timeout,
                ..
            } if &*endpoint == "slow" => break execution_timeout,
            _ => {}
        }
    };
    let t = child_timeout.expect("the child got an execution timeout");
    assert!(
        t <= Duration::from_secs(8) && t >= Duration::from_secs(5),
        "{t:?}"
    );

    // No call starts once the budget is spent.
    let spent = Ctx::builder("caller", "job-1")
        .deadline(Some(Instant::now()))
        .client(rt.client(), None)
        .build();
    let before = rt.health("slow").unwrap().jobs;
    assert!(matches!(
        slow::call(&spent, 1).await,
        Err(CallError::DeadlineExceeded { .. })
    ));
    assert_eq!(
        rt.health("slow").unwrap().jobs,
        before,
        "nothing was submitted"
    );
}

#[tokio::test(start_paused = true)]
async fn cancelling_or_timing_out_a_caller_cancels_its_children_on_the_server() {
    let rt = runtime();
    let mut events = rt.events();
    let parent = rt.submit("waits_on_child", json!(30_000).into()).unwrap();
    let child = loop {
        if let Ok(RuntimeEvent::JobStarted { endpoint, job, .. }) = events.recv().await
            && &*endpoint == "slow"
        {
            break job;
        }
    };
    rt.cancel("waits_on_child", &parent).unwrap();
    let (job, status) = next_finish(&mut events, "slow").await;
    assert_eq!((&*job, status), (&*child, JobStatus::Cancelled));

    // A parent that runs past its own ceiling: its child is cancelled too. (The child's ceiling
    // is clamped to the parent's remaining budget; its cold start makes it start, and so end,
    // after the parent.)
    let mut def = EndpointDef::of::<waits_on_child>();
    def.config.execution_timeout_ms = Some(5_000);
    let rt = LocalRuntime::builder()
        .definition(def)
        .endpoint::<slow>()
        .cold_start(Duration::from_secs(2))
        .build()
        .unwrap();
    let mut events = rt.events();
    let st = rt
        .run_sync("waits_on_child", json!(30_000).into(), LONG)
        .await
        .unwrap();
    assert_eq!(st.status, JobStatus::TimedOut);
    assert_eq!(
        next_finish(&mut events, "slow").await.1,
        JobStatus::Cancelled
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_dropping_a_job_handle_cancels_the_job_over_http() {
    let rt = runtime();
    let mut events = rt.events();
    let s = TestServer::start(rt.clone(), None).await;
    let c = Client::http(HttpRoutes::new(format!("{}/v2", s.base)));
    let handle = slow::submit(&c, 30_000).await.unwrap();
    let id = handle.id().to_string();
    loop {
        if handle.status().await.unwrap().status == JobStatus::InProgress {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(handle);
    let (job, status) = next_finish(&mut events, "slow").await;
    assert_eq!((&*job, status), (id.as_str(), JobStatus::Cancelled));
}

#[tokio::test(start_paused = true)]
async fn fail_fast_cancels_the_calls_in_flight_and_a_failing_parent_its_children() {
    let rt = runtime();
    let mut events = rt.events();
    let st = rt
        .run_sync("fail_fast_parent", json!({}).into(), LONG)
        .await
        .unwrap();
    assert_eq!(st.status, JobStatus::Failed);
    // The parent failed while its submitted child ran: the child is cancelled.
    assert_eq!(
        next_finish(&mut events, "slow").await.1,
        JobStatus::Cancelled
    );

    // fail_fast on a plain client: the first error comes back, the rest never run or are cancelled.
    let c = rt.client();
    let before = SEARCH_CALLS.load(Ordering::SeqCst);
    let r = search::fan_out(&c, ["", "x", "y"].map(String::from))
        .concurrency(1)
        .fail_fast()
        .await;
    assert!(
        matches!(r, Err(CallError::Endpoint(SearchError::NoResults { .. }))),
        "{r:?}"
    );
    assert_eq!(
        SEARCH_CALLS.load(Ordering::SeqCst) - before,
        1,
        "nothing ran after the failure"
    );
}

#[tokio::test(start_paused = true)]
async fn the_step_budget_stops_a_runaway_agent() {
    let rt = runtime();
    let st = rt
        .run_sync("runaway", json!({}).into(), LONG)
        .await
        .unwrap();
    assert_eq!(
        st.output,
        Some(json!(505)),
        "5 calls made, then stopped at max_steps = 5: {st:?}"
    );

    let c = rt.client().max_steps(3);
    let results = add::fan_out(&c, (0..5).map(|i| (i, i)))
        .concurrency(1)
        .await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 3);
    let e = results.into_iter().last().unwrap().unwrap_err();
    assert!(matches!(e, CallError::StepBudgetExhausted { limit: 3, .. }));
    assert!(e.to_string().contains("max_steps = 3"), "{e}");
    // Counted in the process's metrics, under the job that ran out (or `client`).
    let page = endpoint_sdk::metrics::global().render();
    assert!(
        page.contains(r#"endpoint_step_budget_exhausted_total{caller="client"}"#),
        "{page}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_call_to_an_undeclared_callee_is_refused_with_the_fix() {
    let rt = runtime();
    let mut events = rt.events();
    let st = rt
        .run_sync("undeclared", json!({}).into(), LONG)
        .await
        .unwrap();
    let text = st.output.unwrap().as_str().unwrap().to_string();
    assert!(
        text.starts_with("endpoint `undeclared` calls `add`, which is not in its `calls = [..]`"),
        "{text}"
    );
    assert!(
        text.contains("Add the callee's function to `calls = [..]`"),
        "{text}"
    );
    let (_, submitted) = text.split_once('\n').unwrap();
    assert!(
        submitted.starts_with("Some(\"endpoint `undeclared` calls `add`"),
        "submit is refused too: {submitted}"
    );
    // Nothing reached `add`.
    while let Ok(e) = events.try_recv() {
        if let RuntimeEvent::JobFinished { endpoint, .. } = e {
            assert_ne!(&*endpoint, "add", "a job of `add` ran");
        }
    }
    // A plain client (no calling endpoint) has nothing to declare.
    assert_eq!(add::call(&rt.client(), 2, 2).await.unwrap(), 4);
}

#[tokio::test(start_paused = true)]
async fn the_trace_records_each_calls_queue_delay_execution_and_worker() {
    let rt = runtime();
    let c = rt.client();
    let _ = slow::fan_out(&c, [50u64, 100, 150]).await;
    let calls: Vec<CallRecord> = c.trace().records();
    assert_eq!(calls.len(), 3);
    for call in &calls {
        assert_eq!(call.endpoint, "slow");
        assert_eq!(call.status, Some(JobStatus::Completed));
        assert!(call.job_id.is_some() && call.worker_id.is_some());
        assert!(call.queue_delay.is_some());
        assert!(call.execution.unwrap() >= Duration::from_millis(50));
        assert!(call.ended >= call.started);
    }
    let waterfall = c.trace().waterfall(30);
    assert_eq!(waterfall.lines().count(), 3);
    assert!(
        waterfall.contains("COMPLETED") && waterfall.contains('█'),
        "{waterfall}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_job_handle_waits_checks_and_streams() {
    let rt = LocalRuntime::builder()
        .endpoint::<endpoint_tests::count>()
        .endpoint::<slow>()
        .build()
        .unwrap();
    let c = rt.client();
    let handle = endpoint_tests::count::submit(&c, 4).await.unwrap();
    let mut stream = handle.stream();
    let mut chunks = Vec::new();
    while let Some(chunk) = stream.next_as::<u32>().await {
        chunks.push(chunk.unwrap());
    }
    assert_eq!(chunks, [0, 1, 2, 3]);
    assert_eq!(handle.wait().await.unwrap(), 4);

    let h = slow::submit(&c, 20).await.unwrap();
    assert!(matches!(
        h.status().await.unwrap().status,
        JobStatus::InQueue | JobStatus::InProgress | JobStatus::Completed
    ));
    assert_eq!(h.wait().await.unwrap(), 20);
    let h = slow::submit(&c, 10_000).await.unwrap();
    let id = h.id().to_string();
    h.cancel().await.unwrap();
    assert_eq!(rt.status("slow", &id).unwrap().status, JobStatus::Cancelled);
}

#[tokio::test(start_paused = true)]
async fn handles_show_progress_reattach_by_id_and_streams_keep_their_job_alive() {
    let rt = runtime();
    let c = rt.client();
    // While the job runs, its status carries the latest progress; once final, the typed result.
    let h = paced::submit(&c, 3).await.unwrap();
    let progress = loop {
        let state = h.status().await.unwrap();
        assert!(state.result.is_none(), "not final yet: {state:?}");
        if let Some(p) = state.progress {
            break p;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(progress.is_u64(), "{progress}");
    // A stream taken from the handle keeps the job alive after the handle is dropped.
    let id = h.id().to_string();
    let mut stream = h.stream();
    drop(h);
    let mut chunks = Vec::new();
    while let Some(chunk) = stream.next_as::<u32>().await {
        chunks.push(chunk.unwrap());
    }
    assert_eq!(chunks, [0, 1, 2]);
    assert_eq!(
        rt.status("paced", &id).unwrap().status,
        JobStatus::Completed
    );

    // Found again by its id (as after a restart): wait, and status with the typed result.
    let id = paced::submit(&c, 2).await.unwrap().detach();
    let again = paced::job(&c, id.clone());
    assert_eq!(again.id(), id);
    assert_eq!(again.wait().await.unwrap(), 2);
    let state = paced::job(&c, id.clone()).status().await.unwrap();
    assert_eq!(state.status, JobStatus::Completed);
    assert_eq!(state.result.unwrap().unwrap(), 2);
    // Dropping a re-attached handle does not cancel the job.
    let id = paced::submit(&c, 2).await.unwrap().detach();
    drop(paced::job(&c, id.clone()));
    let st = rt.wait("paced", &id, LONG).await.unwrap();
    assert_eq!(st.status, JobStatus::Completed);
    // An id that names no job is an error when the handle is used.
    let e = paced::job(&c, "no-such-job").status().await.unwrap_err();
    assert!(
        matches!(
            e,
            CallError::Rejected {
                status: Some(404),
                ..
            }
        ),
        "{e:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_calls_webhook_receives_the_final_status() {
    let got: Arc<std::sync::Mutex<Vec<serde_json::Value>>> = Arc::default();
    let sink = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |axum::Json(v): axum::Json<serde_json::Value>| {
            let sink = sink.clone();
            async move { sink.lock().unwrap().push(v) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let rt = runtime();
    let options = CallOptions::default().webhook(url);
    assert_eq!(
        add::call_with(&rt.client(), options, 2, 3).await.unwrap(),
        5
    );
    let posted = support::until("the webhook", LONG, || got.lock().unwrap().first().cloned()).await;
    assert_eq!(posted["status"], "COMPLETED", "{posted}");
    assert_eq!(posted["output"], 5, "{posted}");
}

#[tokio::test(start_paused = true)]
async fn a_call_dropped_while_its_job_runs_in_the_callers_task_cancels_the_job() {
    let rt = runtime();
    let c = rt.client();
    // A warm worker with free slots: the next call's job starts at once, in the caller's task.
    assert_eq!(slow::call(&c, 1).await.unwrap(), 1);
    let mut events = rt.events();
    let call = slow::call(&c, 30_000);
    assert!(
        tokio::time::timeout(Duration::from_secs(2), call)
            .await
            .is_err()
    );
    let (job, status) = next_finish(&mut events, "slow").await;
    assert_eq!(status, JobStatus::Cancelled, "the dropped call's job");
    // The dropped call is in its caller's trace all the same, naming its job.
    let record = c.trace().records().pop().unwrap();
    assert_eq!(record.job_id.as_deref(), Some(&*job));
    assert_eq!(record.status, None);
    assert!(record.error.unwrap().contains("dropped"));
    // The slot it held is free again: a call after it runs.
    assert_eq!(slow::call(&c, 5).await.unwrap(), 5);
}

/// A platform of the test's making, reached through the `Transport` trait.
enum Fake {
    /// Every job ends FAILED with a timeout failure, as a worker that stopped its job at the
    /// deadline reports it on the real platform (it has no other way to say so).
    TimedOutByItsWorker,
    /// No job ever starts; a submit-and-wait exchange answers after at most 1 s (as
    /// `/runsync?wait=1000` does), the job still queued.
    Stalled,
}

type Answer<'a, T> = endpoint_sdk::BoxFuture<'a, Result<T, endpoint_sdk::client::TransportError>>;

impl Fake {
    fn status(&self, id: &str) -> endpoint_sdk::protocol::StatusObject {
        use endpoint_sdk::protocol::{FailureKind, JobFailure, StatusObject};
        let queued = StatusObject::queued(id.to_string());
        match self {
            Fake::TimedOutByItsWorker => StatusObject {
                status: JobStatus::Failed,
                error: Some(
                    JobFailure::new(FailureKind::Timeout, "ran past its deadline").to_wire(),
                ),
                ..queued
            },
            Fake::Stalled => queued,
        }
    }
}

impl endpoint_sdk::client::Transport for Fake {
    fn submit(&self, _: &str, _: RunRequest) -> Answer<'_, String> {
        Box::pin(async { Ok("j1".to_string()) })
    }

    fn run(&self, _: &str, _: RunRequest, wait: Duration) -> endpoint_sdk::client::Running<'_> {
        let st = self.status("j1");
        endpoint_sdk::client::Running {
            id: None,
            status: Box::pin(async move {
                tokio::time::sleep(wait.min(Duration::from_secs(1))).await;
                Ok(st)
            }),
        }
    }

    fn wait(
        &self,
        _: &str,
        id: &str,
        wait: Duration,
    ) -> Answer<'_, endpoint_sdk::protocol::StatusObject> {
        let st = self.status(id);
        let stalled = matches!(self, Fake::Stalled);
        Box::pin(async move {
            if stalled {
                tokio::time::sleep(wait).await;
            }
            Ok(st)
        })
    }

    fn status(&self, _: &str, id: &str) -> Answer<'_, endpoint_sdk::protocol::StatusObject> {
        let st = Fake::status(self, id);
        Box::pin(async move { Ok(st) })
    }

    fn cancel(&self, _: &str, _: &str) -> Answer<'_, ()> {
        Box::pin(async { Ok(()) })
    }

    fn stream(
        &self,
        _: &str,
        _: &str,
        _: Duration,
    ) -> Answer<'_, (JobStatus, Vec<serde_json::Value>)> {
        Box::pin(async { Ok((JobStatus::InQueue, Vec::new())) })
    }

    fn describe(&self) -> String {
        "a platform of the test's making".into()
    }
}

#[tokio::test(start_paused = true)]
async fn a_failed_job_whose_failure_is_a_timeout_reaches_its_caller_as_a_timeout() {
    let c = Client::with_transport(Arc::new(Fake::TimedOutByItsWorker));
    match add::call(&c, 1, 2).await {
        Err(CallError::TimedOut { job_id, .. }) => assert_eq!(job_id, "j1"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn a_calls_timeout_counts_from_its_start_not_from_the_end_of_the_submitting_exchange() {
    let c = Client::with_transport(Arc::new(Fake::Stalled));
    let opts = CallOptions::default().timeout(Duration::from_millis(1_500));
    let start = Instant::now();
    match add::call_with(&c, opts, 1, 2).await {
        Err(CallError::TimedOut { after, .. }) => {
            assert_eq!(after, Duration::from_millis(1_500));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        start.elapsed(),
        Duration::from_millis(1_500),
        "on the paused clock"
    );
}

#[tokio::test(start_paused = true)]
async fn a_fan_out_yields_its_results_as_they_complete_and_dropping_it_cancels_the_rest() {
    let rt = runtime();
    let c = rt.client();
    let mut done = slow::fan_out(&c, vec![3_000u64, 1_000, 2_000]).as_completed();
    let mut order = Vec::new();
    while let Some((i, r)) = done.next().await {
        assert_eq!(r.unwrap(), [3_000, 1_000, 2_000][i]);
        order.push(i);
    }
    assert_eq!(
        order,
        [1, 2, 0],
        "in completion order, each with its input's index"
    );

    let mut events = rt.events();
    let mut early = slow::fan_out(&c, vec![100u64, 50_000]).as_completed();
    assert_eq!(early.next().await.unwrap().0, 0);
    drop(early);
    assert_eq!(
        next_finish(&mut events, "slow").await.1,
        JobStatus::Completed
    );
    assert_eq!(
        next_finish(&mut events, "slow").await.1,
        JobStatus::Cancelled,
        "the call still in flight when the stream was dropped"
    );
}

#[tokio::test(start_paused = true)]
async fn waiting_on_a_job_found_by_its_id_never_cancels_it() {
    let rt = runtime();
    let id = slow::submit(&rt.client(), 30_000).await.unwrap().detach();
    let impatient = rt
        .client()
        .options(CallOptions::default().timeout(Duration::from_secs(5)));
    assert!(matches!(
        slow::job(&impatient, id.clone()).wait().await,
        Err(CallError::TimedOut { .. })
    ));
    assert_ne!(
        rt.status("slow", &id).unwrap().status,
        JobStatus::Cancelled,
        "the job is someone else's: the caller stops waiting, the job goes on"
    );
    // A call with no limit (`Duration::MAX`) is no bound at all, not an overflow.
    let patient = rt
        .client()
        .options(CallOptions::default().timeout(Duration::MAX));
    assert_eq!(slow::call(&patient, 10).await.unwrap(), 10);
}
