//! Our worker binary, as separate processes, attached to the local runtime's job API over HTTP:
//! many jobs over several processes, a process killed mid-job, hanging, stuck, panicking,
//! oversize and slow handlers, a starved-heartbeat check, the server going away and coming
//! back, SIGTERM drain, init failure, endpoint selection and log hygiene.

mod support;

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use endpoint_sdk::Client;
use endpoint_sdk::EndpointDef;
use endpoint_sdk::local::{LocalRuntime, RuntimeEvent};
use endpoint_sdk::protocol::{FailureKind, JobFailure, JobStatus};
use endpoint_tests::*;
use serde_json::{Value, json};
use support::TestServer;

const LONG: Duration = Duration::from_secs(40);
const BIN: &str = env!("CARGO_BIN_EXE_test-worker");
/// The same endpoints behind `endpoint_sdk::worker_main()`.
const ONLY: &str = env!("CARGO_BIN_EXE_test-worker-only");

/// A worker process, killed when dropped.
struct Worker {
    child: Child,
    log: std::path::PathBuf,
}

impl Worker {
    fn spawn(base: &str, endpoint: &str, worker_id: &str, extra: &[(&str, &str)]) -> Worker {
        Self::spawn_bin(BIN, base, endpoint, worker_id, extra)
    }

    /// [`Worker::spawn`] of binary `bin`.
    fn spawn_bin(
        bin: &str,
        base: &str,
        endpoint: &str,
        worker_id: &str,
        extra: &[(&str, &str)],
    ) -> Worker {
        let log = support::log_path(&format!("worker-{}-{worker_id}", std::process::id()));
        let out = std::fs::File::create(&log).unwrap();
        let mut cmd = Command::new(bin);
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env(
                "RUNPOD_WEBHOOK_GET_JOB",
                format!("{base}/v2/{endpoint}/job-take/$ID?gpu=test"),
            )
            .env(
                "RUNPOD_WEBHOOK_POST_OUTPUT",
                format!("{base}/v2/{endpoint}/job-done/$RUNPOD_POD_ID/$ID?gpu=test"),
            )
            .env(
                "RUNPOD_WEBHOOK_POST_STREAM",
                format!("{base}/v2/{endpoint}/job-stream/$RUNPOD_POD_ID/$ID?gpu=test"),
            )
            .env(
                "RUNPOD_WEBHOOK_PING",
                format!("{base}/v2/{endpoint}/ping/$RUNPOD_POD_ID?gpu=test"),
            )
            .env("RUNPOD_PING_INTERVAL", "500")
            .env("RUNPOD_POD_ID", worker_id)
            .env("ENDPOINT_NAME", endpoint)
            .stdout(Stdio::from(out.try_clone().unwrap()))
            .stderr(Stdio::from(out));
        for (k, v) in extra {
            cmd.env(k, v);
        }
        Worker {
            child: cmd.spawn().unwrap(),
            log,
        }
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {sig} failed");
    }

    /// Waits for the process to exit; its exit code.
    fn wait_exit(&mut self, within: Duration) -> i32 {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            assert!(
                start.elapsed() < within,
                "the worker did not exit; its log:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A runtime whose endpoint `E` is served only by external workers; the platform's own
/// execution timeout is off so that the worker's is the one that acts.
fn runtime_for<E: endpoint_sdk::Handler>(
    opts: impl FnOnce(&mut endpoint_sdk::local::RuntimeOptions),
) -> LocalRuntime {
    let mut def = EndpointDef::of::<E>();
    def.config.execution_timeout_ms = None;
    let name = def.name().to_string();
    LocalRuntime::builder()
        .definition(def)
        .served_externally(name)
        .with_options(|o| {
            o.take_wait = Duration::from_millis(500);
            opts(o)
        })
        .build()
        .unwrap()
}

async fn wait_final(rt: &LocalRuntime, ep: &str, id: &str) -> endpoint_sdk::protocol::StatusObject {
    let st = rt.wait(ep, id, LONG).await.unwrap();
    assert!(st.status.is_final(), "job {id} did not finish: {st:?}");
    st
}

/// Waits until job `id` of `ep` runs on a worker.
async fn wait_in_progress(rt: &LocalRuntime, ep: &str, id: &str) {
    let until = Instant::now() + LONG;
    while rt.status(ep, id).unwrap().status != JobStatus::InProgress {
        assert!(Instant::now() < until, "job {id} never started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn failure(st: &endpoint_sdk::protocol::StatusObject) -> JobFailure {
    JobFailure::from_wire(st.error.as_deref().expect("a failed job has an error"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_jobs_over_several_worker_processes_none_lost_or_duplicated() {
    let rt = runtime_for::<echo>(|_| {});
    let mut events = rt.events();
    let s = TestServer::start(rt.clone(), None).await;
    let _workers: Vec<Worker> = (0..3)
        .map(|i| Worker::spawn(&s.base, "echo", &format!("w{i}"), &[]))
        .collect();
    const N: usize = 3_000;
    let mut ids = Vec::new();
    for i in 0..N {
        ids.push((i, rt.submit("echo", json!({ "n": i }).into()).unwrap()));
    }
    let mut served_by = HashSet::new();
    for (i, id) in &ids {
        let st = wait_final(&rt, "echo", id).await;
        assert_eq!(st.status, JobStatus::Completed, "{st:?}");
        assert_eq!(st.output, Some(json!({ "n": i })));
        served_by.insert(st.worker_id.unwrap());
    }
    assert!(
        served_by.len() >= 2,
        "several processes shared the work: {served_by:?}"
    );
    // A job's event is sent just after its final state is visible: wait for the last ones.
    let mut finished = HashSet::new();
    while finished.len() < N {
        match tokio::time::timeout(LONG, events.recv()).await {
            Ok(Ok(RuntimeEvent::JobFinished { job, .. })) => {
                assert!(finished.insert(job.clone()), "job {job} finished twice");
            }
            Ok(Ok(_)) => {}
            other => panic!("{} jobs finished, then: {other:?}", finished.len()),
        }
    }
    while let Ok(e) = events.try_recv() {
        if let RuntimeEvent::JobFinished { job, .. } = e {
            assert!(finished.insert(job.clone()), "job {job} finished twice");
        }
    }
    assert_eq!(finished.len(), N);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_job_has_its_job_run_again_by_another_worker() {
    let rt = runtime_for::<nap>(|o| o.lost_after = Duration::from_millis(1_500));
    let mut events = rt.events();
    let s = TestServer::start(rt.clone(), None).await;
    let victim = Worker::spawn(&s.base, "nap", "victim", &[]);
    let id = rt.submit("nap", json!(5_000).into()).unwrap();
    loop {
        let st = rt.status("nap", &id).unwrap();
        if st.status == JobStatus::InProgress {
            assert_eq!(st.worker_id.as_deref(), Some("victim"));
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    victim.signal("-KILL");
    let _rescuer = Worker::spawn(&s.base, "nap", "rescuer", &[]);
    let st = wait_final(&rt, "nap", &id).await;
    assert_eq!(
        (st.status, st.worker_id.as_deref()),
        (JobStatus::Completed, Some("rescuer"))
    );
    let mut requeued = false;
    while let Ok(e) = events.try_recv() {
        if let RuntimeEvent::JobRequeued { job, worker, .. } = e {
            assert_eq!((&*job, &*worker), (id.as_str(), "victim"));
            requeued = true;
        }
    }
    assert!(requeued);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_enforces_the_execution_timeout_itself_and_goes_on() {
    let rt = runtime_for::<hang_async>(|_| {});
    let s = TestServer::start(rt.clone(), None).await;
    let _w = Worker::spawn(&s.base, "hang_async", "h1", &[]);
    let id = rt.submit("hang_async", json!(1).into()).unwrap();
    let st = wait_final(&rt, "hang_async", &id).await;
    // The worker reports a failure (it has no other way to say so) that says it timed out; the
    // job ends TIMED_OUT, as when the runtime's own timer stops it.
    assert_eq!(st.status, JobStatus::TimedOut, "{st:?}");
    let f = failure(&st);
    assert_eq!(f.kind, FailureKind::Timeout);
    assert_eq!(
        f.message,
        "the job ran past its execution timeout of 5000 ms and was stopped"
    );
    // The worker is still healthy and takes the next job.
    let id2 = rt.submit("hang_async", json!(2).into()).unwrap();
    let deadline = Instant::now() + LONG;
    while rt.status("hang_async", &id2).unwrap().status == JobStatus::InQueue {
        assert!(Instant::now() < deadline, "the worker took no new job");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // And it reaches a typed caller as a timeout.
    let e = hang_async::job(&rt.client(), id2).wait().await.unwrap_err();
    assert!(
        matches!(&e, endpoint_sdk::CallError::TimedOut { .. }),
        "{e:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callers_deadline_in_the_envelope_reaches_the_worker_and_is_enforced() {
    use endpoint_sdk::protocol::envelope::{Deadline, JobMeta};
    let within = |secs| JobMeta {
        deadline: Some(Deadline::in_(Duration::from_secs(secs))),
        ..JobMeta::default()
    };
    // `time_left`'s ceiling is 30 s; its caller has 8 s left: the handler sees the 8 s.
    let rt = runtime_for::<time_left>(|_| {});
    let s = TestServer::start(rt.clone(), None).await;
    let _w = Worker::spawn(&s.base, "time_left", "t1", &[]);
    let id = rt
        .submit("time_left", within(8).wrap(json!(1)).into())
        .unwrap();
    let st = wait_final(&rt, "time_left", &id).await;
    assert_eq!(st.status, JobStatus::Completed, "{st:?}");
    let left = st.output.unwrap().as_u64().unwrap();
    assert!(
        (1..=8_000).contains(&left),
        "the handler saw {left} ms left"
    );

    // And the worker stops a job at that deadline, not at its 60 s ceiling.
    let rt = runtime_for::<nap>(|_| {});
    let s = TestServer::start(rt.clone(), None).await;
    let _w = Worker::spawn(&s.base, "nap", "n1", &[]);
    let id = rt
        .submit("nap", within(5).wrap(json!(30_000)).into())
        .unwrap();
    let st = wait_final(&rt, "nap", &id).await;
    assert_eq!(st.status, JobStatus::TimedOut, "{st:?}");
    let f = failure(&st);
    assert_eq!(f.kind, FailureKind::Timeout, "{f:?}");
    let ms: u64 = f
        .message
        .strip_prefix("the job ran past its execution timeout of ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{f:?}"));
    assert!(
        ms <= 5_000,
        "stopped at the caller's deadline, not the ceiling: {f:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadline_and_a_trace_hold_at_depth_three_across_worker_processes() {
    use endpoint_sdk::protocol::envelope::{Deadline, JobMeta};
    use endpoint_sdk::protocol::trace_context::{SpanId, TraceId, TraceParent};
    // Three endpoints, each served by its own worker process, calling each other through the
    // server's public API: the top calls the middle and the leaf, the middle calls the leaf.
    // Ceilings 120 s, 60 s and 30 s; the top job's caller has 8 s left.
    let names = ["chain_top", "chain_mid", "time_left"];
    let mut builder = LocalRuntime::builder();
    for def in [
        EndpointDef::of::<chain_top>(),
        EndpointDef::of::<chain_mid>(),
        EndpointDef::of::<time_left>(),
    ] {
        let name = def.name().to_string();
        builder = builder.definition(def).served_externally(name);
    }
    let rt = builder
        .with_options(|o| o.take_wait = Duration::from_millis(500))
        .build()
        .unwrap();
    let s = TestServer::start(rt.clone(), None).await;
    let api = format!("{}/v2", s.base);
    // Platform-format logs (JSON lines): the workers' logs are where the tree is read from.
    let mut workers: Vec<Worker> = names
        .iter()
        .map(|n| {
            let env = [
                ("RUNPOD_ENDPOINT_BASE_URL", api.as_str()),
                ("RUNPOD_ENDPOINT_ID", n),
            ];
            Worker::spawn(&s.base, n, &format!("{n}-1"), &env)
        })
        .collect();
    let (trace, root) = (TraceId::random(), SpanId::random());
    let input = JobMeta {
        deadline: Some(Deadline::in_(Duration::from_secs(8))),
        traceparent: Some(TraceParent::new(trace, root)),
        ..JobMeta::default()
    }
    .wrap(json!(1));
    let id = rt.submit("chain_top", input.into()).unwrap();
    let st = wait_final(&rt, "chain_top", &id).await;
    assert_eq!(st.status, JobStatus::Completed, "{st:?}");
    let left = st.output.unwrap().as_u64().unwrap();
    assert!(
        (1..=8_000).contains(&left),
        "the grandchild saw {left} ms left: its deadline is its grandparent's caller's"
    );
    for w in &mut workers {
        w.signal("-TERM");
        assert_eq!(w.wait_exit(LONG), 0);
    }
    let logs: Vec<(&str, String)> = names
        .iter()
        .copied()
        .zip(workers.iter().map(Worker::output))
        .collect();
    let tree = TraceTree::from_logs(&logs);
    assert!(
        tree.jobs.len() == 4 && tree.jobs.iter().all(|j| j.trace == trace.to_string()),
        "four jobs in one trace across the processes:\n{logs:#?}"
    );
    assert_eq!(
        tree.render(&root.to_string()),
        "chain_top(chain_mid(time_left) time_left)",
        "the tree rebuilt from the workers' logs:\n{logs:#?}"
    );
}

/// A trace's tree, rebuilt from workers' platform-format logs: their `job started` lines (the
/// job's span and the call it descends from) and `called` lines (a call's span and the job
/// span it was made in).
struct TraceTree {
    jobs: Vec<TracedJob>,
    calls: Vec<TracedCall>,
}

struct TracedJob {
    endpoint: String,
    trace: String,
    span: String,
    parent: String,
}

struct TracedCall {
    span: String,
    parent: String,
}

impl TraceTree {
    /// From each endpoint's worker log.
    fn from_logs(logs: &[(&str, String)]) -> TraceTree {
        let mut tree = TraceTree {
            jobs: Vec::new(),
            calls: Vec::new(),
        };
        for (endpoint, log) in logs {
            for line in log.lines() {
                let line: Value = serde_json::from_str(line).unwrap_or_else(|_| panic!("{line}"));
                let msg = line["message"].as_str().unwrap_or_default();
                let field = |k: &str| {
                    msg.split(' ')
                        .find_map(|kv| kv.strip_prefix(k)?.strip_prefix('='))
                        .unwrap_or_default()
                        .to_string()
                };
                if msg.starts_with("job started") {
                    tree.jobs.push(TracedJob {
                        endpoint: endpoint.to_string(),
                        trace: field("trace_id"),
                        span: field("span_id"),
                        parent: field("parent_id"),
                    });
                } else if msg.starts_with("called `") {
                    assert!(
                        line["requestId"].is_string(),
                        "a call is logged in its job: {line}"
                    );
                    tree.calls.push(TracedCall {
                        span: field("span_id"),
                        parent: field("parent_id"),
                    });
                }
            }
        }
        tree
    }

    /// The jobs descending from span `parent` (a call's, or the root's), as
    /// `endpoint(children)`, sorted: each job's children descend from the calls made in its span.
    fn render(&self, parent: &str) -> String {
        let mut parts: Vec<String> = self
            .jobs
            .iter()
            .filter(|j| j.parent == parent)
            .map(|j| {
                let children: Vec<String> = self
                    .calls
                    .iter()
                    .filter(|c| c.parent == j.span)
                    .map(|c| self.render(&c.span))
                    .collect();
                if children.is_empty() {
                    j.endpoint.clone()
                } else {
                    let mut children = children;
                    children.sort();
                    format!("{}({})", j.endpoint, children.join(" "))
                }
            })
            .collect();
        parts.sort();
        parts.join(" ")
    }
}

/// Runs one job of `E` on a fresh worker: it must time out, the worker ask to be replaced
/// (`stopPod`) and exit; its log.
async fn times_out_and_is_replaced<E: endpoint_sdk::Handler>(worker_id: &str) -> String {
    let rt = runtime_for::<E>(|_| {});
    let s = TestServer::start(rt.clone(), None).await;
    let mut w = Worker::spawn(&s.base, E::NAME, worker_id, &[]);
    let id = rt.submit(E::NAME, json!(1).into()).unwrap();
    let st = wait_final(&rt, E::NAME, &id).await;
    assert_eq!(st.status, JobStatus::TimedOut, "{st:?}\n{}", w.output());
    let f = failure(&st);
    assert_eq!(f.kind, FailureKind::Timeout);
    assert!(f.message.contains("asks to be replaced"), "{}", f.message);
    assert_eq!(
        w.wait_exit(LONG),
        0,
        "the worker exits for the platform to replace it"
    );
    assert_eq!(
        rt.health(E::NAME).unwrap().workers.ready,
        0,
        "stopPod removed it"
    );
    w.output()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_that_ignores_cancellation_times_out_and_the_worker_asks_to_be_replaced() {
    let out = times_out_and_is_replaced::<spin_forever>("stuck1").await;
    assert!(out.contains("ignored cancellation"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_a_handler_spawned_that_holds_the_event_loop_past_the_deadline_has_the_worker_replaced()
 {
    let out = times_out_and_is_replaced::<spawn_spin>("held1").await;
    assert!(out.contains("a task holds it"), "{out}");
    assert!(out.contains("spawn_blocking"), "says what to do: {out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_holding_the_loop_within_its_budget_delays_another_jobs_timeout_but_replaces_nothing()
{
    use endpoint_sdk::protocol::envelope::{Deadline, JobMeta};
    let rt = runtime_for::<hold_or_wait>(|_| {});
    let s = TestServer::start(rt.clone(), None).await;
    let mut w = Worker::spawn(&s.base, "hold_or_wait", "holder2", &[]);
    // B waits on the loop; its caller gives it 4 s.
    let within = JobMeta {
        deadline: Some(Deadline::in_(Duration::from_secs(4))),
        ..JobMeta::default()
    };
    let b = rt
        .submit("hold_or_wait", within.wrap(json!(-20_000)).into())
        .unwrap();
    wait_in_progress(&rt, "hold_or_wait", &b).await;
    // A holds the loop for 8 s in one poll, within its own 60 s: B's deadline and grace pass
    // meanwhile. The worker is not replaced for it; B times out once the loop runs again.
    let a = rt.submit("hold_or_wait", json!(8_000).into()).unwrap();
    let st = wait_final(&rt, "hold_or_wait", &a).await;
    assert_eq!(st.status, JobStatus::Completed, "{st:?}\n{}", w.output());
    let st = wait_final(&rt, "hold_or_wait", &b).await;
    assert_eq!(st.status, JobStatus::TimedOut, "{st:?}");
    assert!(
        !failure(&st).message.contains("replaced"),
        "{}",
        failure(&st).message
    );
    let c = rt.submit("hold_or_wait", json!(-1).into()).unwrap();
    let st = wait_final(&rt, "hold_or_wait", &c).await;
    assert_eq!(st.status, JobStatus::Completed, "{st:?}\n{}", w.output());
    assert!(
        w.child.try_wait().unwrap().is_none(),
        "the worker goes on\n{}",
        w.output()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_level_is_a_plain_level_or_a_filter_with_directives() {
    let rt = runtime_for::<echo>(|_| {});
    let s = TestServer::start(rt.clone(), None).await;
    let run = |id: &'static str, filter: (&'static str, &'static str)| {
        let (rt, base) = (rt.clone(), s.base.clone());
        async move {
            let w = Worker::spawn(&base, "echo", id, &[filter]);
            let job = rt.submit("echo", json!("logged").into()).unwrap();
            assert_eq!(
                wait_final(&rt, "echo", &job).await.status,
                JobStatus::Completed
            );
            w.output()
        }
    };
    // A plain level, in the platform's variable and its spelling.
    let out = run("lvl", ("RUNPOD_LOG_LEVEL", "WARN")).await;
    assert!(!out.contains("job started"), "{out}");
    // Directives: the job's lines at info, the rest of the worker at warn.
    let out = run("dir", ("RUST_LOG", "warn,endpoint_sdk::worker::job=info")).await;
    assert!(out.contains("job started"), "{out}");
    assert!(!out.contains("worker starting"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panics_fail_the_job_oversize_results_become_clear_errors_and_the_worker_goes_on() {
    let rt = LocalRuntime::builder()
        .definition(EndpointDef::of::<panicky>())
        .definition(EndpointDef::of::<big_output>())
        .served_externally("panicky")
        .served_externally("big_output")
        .with_options(|o| o.take_wait = Duration::from_millis(500))
        .build()
        .unwrap();
    let s = TestServer::start(rt.clone(), None).await;
    let _p = Worker::spawn(&s.base, "panicky", "p1", &[]);
    let _b = Worker::spawn(&s.base, "big_output", "b1", &[]);

    let id = rt.submit("panicky", json!("panic").into()).unwrap();
    let st = wait_final(&rt, "panicky", &id).await;
    assert_eq!(
        (st.status, failure(&st).kind),
        (JobStatus::Failed, FailureKind::Panic)
    );
    assert!(failure(&st).message.contains("asked to panic"));
    let id = rt.submit("panicky", json!("fine").into()).unwrap();
    assert_eq!(
        wait_final(&rt, "panicky", &id).await.output,
        Some(json!("fine"))
    );

    let id = rt.submit("big_output", json!(21).into()).unwrap();
    let st = wait_final(&rt, "big_output", &id).await;
    assert_eq!(
        (st.status, failure(&st).kind),
        (JobStatus::Failed, FailureKind::Output)
    );
    assert!(
        failure(&st)
            .message
            .contains("above the platform's 20 MB limit"),
        "{}",
        failure(&st).message
    );
    let id = rt.submit("big_output", json!(1).into()).unwrap();
    let st = wait_final(&rt, "big_output", &id).await;
    assert_eq!(
        st.output.and_then(|o| o.as_str().map(str::len)),
        Some(1024 * 1024)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_and_stream_posts_arrive_before_the_result() {
    let rt = runtime_for::<chatty>(|_| {});
    let s = TestServer::start(rt.clone(), None).await;
    let _w = Worker::spawn(&s.base, "chatty", "c1", &[]);
    let id = rt.submit("chatty", json!(25).into()).unwrap();
    let st = wait_final(&rt, "chatty", &id).await;
    assert_eq!(
        st.output,
        Some(json!("done")),
        "the result, not a late progress update"
    );
    // The server only accepts chunks while the job runs: all 25 arrived before the result.
    let (_, chunks) = rt.stream("chatty", &id).unwrap();
    let expected: Vec<Value> = (0..25).map(|i| json!(format!("chunk-{i}"))).collect();
    assert_eq!(chunks, expected);
}

/// Counts pings on a server of its own, with their arrival times.
async fn ping_counter() -> (String, Arc<Mutex<Vec<Instant>>>) {
    let pings = Arc::new(Mutex::new(Vec::new()));
    let seen = pings.clone();
    let app = axum::Router::new().route(
        "/ping/{worker}",
        axum::routing::get(move || {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push(Instant::now());
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/ping/$RUNPOD_POD_ID",
        listener.local_addr().unwrap()
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, pings)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fast_producer_behind_slow_posts_streams_every_chunk_once_in_order_in_fewer_posts() {
    // Each of the worker's job-stream posts costs 20 ms on its way to the server; the handler
    // produces 3 000 chunks as fast as it can.
    let rt = runtime_for::<fast_tokens>(|_| {});
    let s = TestServer::start(rt.clone(), None).await;
    let delay = Duration::from_millis(20);
    let proxy = support::proxy::FaultProxy::delaying(&s.base, "job-stream", delay).await;
    let _w = Worker::spawn(&proxy.base, "fast_tokens", "fast-1", &[]);
    let client = Client::http(endpoint_sdk::client::HttpRoutes::new(format!(
        "{}/v2",
        s.base
    )));
    let n = 3_000;
    let mut stream = fast_tokens::stream(&client, n);
    let mut seen = Vec::new();
    while let Some(chunk) = tokio::time::timeout(LONG, stream.next())
        .await
        .expect("chunks")
    {
        seen.push(chunk.unwrap());
    }
    let first_wrong = seen.iter().zip(0..).position(|(got, want)| *got != want);
    assert!(
        seen.len() == n as usize && first_wrong.is_none(),
        "every chunk once, in order: {} chunks, the first out of place at {first_wrong:?}",
        seen.len()
    );
    assert_eq!(stream.output().await.unwrap(), n);
    let posts = proxy.count("job-stream");
    assert!(
        posts * 10 < n as usize,
        "{posts} posts for {n} chunks: chunks made while a post was in flight went together"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_slow_result_posts_a_worker_delivers_at_most_its_concurrency_of_results_at_once() {
    // `echo` runs 8 jobs at once and returns at once; each result takes 150 ms to deliver.
    // Its next jobs run while results are posted, but a worker that posted every finished
    // job's result at once would have had 40 requests (and connections) in flight, and one
    // that queued them would have taken all 40 jobs.
    let rt = runtime_for::<echo>(|_| {});
    let s = TestServer::start(rt.clone(), None).await;
    let delay = Duration::from_millis(150);
    let proxy = support::proxy::FaultProxy::delaying(&s.base, "job-done", delay).await;
    let ids: Vec<String> = (0..40)
        .map(|i| rt.submit("echo", json!({ "n": i }).into()).unwrap())
        .collect();
    // How many jobs the worker holds (taken, result not delivered), sampled as it works.
    let sampler = tokio::spawn({
        let (rt, ids) = (rt.clone(), ids.clone());
        async move {
            let mut most = 0;
            loop {
                let states: Vec<JobStatus> = ids
                    .iter()
                    .map(|id| rt.status("echo", id).unwrap().status)
                    .collect();
                let held = states
                    .iter()
                    .filter(|s| **s == JobStatus::InProgress)
                    .count();
                most = most.max(held);
                if states.iter().all(|s| s.is_final()) {
                    return most;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    });
    let _w = Worker::spawn(&proxy.base, "echo", "deliver-1", &[]);
    for (i, id) in ids.iter().enumerate() {
        let st = wait_final(&rt, "echo", id).await;
        assert_eq!(st.status, JobStatus::Completed, "{st:?}");
        assert_eq!(st.output, Some(json!({ "n": i })));
    }
    let most = proxy.most_at_once("job-done");
    assert!(
        (2..=8).contains(&most),
        "at most 8 results (the endpoint's concurrency) in flight at once, several of them \
         together: {most} at once"
    );
    // A job waiting to deliver keeps its slot: the worker takes no more than it can deliver.
    let held = sampler.await.unwrap();
    assert!(
        held <= 16,
        "at most 8 jobs running and 8 delivering at once, the others left queued for any \
         worker: the worker held {held}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_that_blocks_its_threads_does_not_starve_the_heartbeat() {
    let rt = runtime_for::<block>(|_| {});
    let s = TestServer::start(rt.clone(), None).await;
    let (ping_url, pings) = ping_counter().await;
    let _w = Worker::spawn(
        &s.base,
        "block",
        "busy",
        &[
            ("RUNPOD_WEBHOOK_PING", &ping_url),
            ("RUNPOD_PING_INTERVAL", "300"),
        ],
    );
    let id = rt.submit("block", json!(3_000).into()).unwrap();
    wait_in_progress(&rt, "block", &id).await;
    let started = Instant::now();
    let st = wait_final(&rt, "block", &id).await;
    let ended = Instant::now();
    assert_eq!(st.status, JobStatus::Completed);
    let during = pings
        .lock()
        .unwrap()
        .iter()
        .filter(|t| **t > started && **t < ended)
        .count();
    assert!(
        during >= 3,
        "only {during} pings while a handler blocked its thread for 3 s"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_that_holds_the_event_loop_moves_the_endpoints_later_jobs_to_handler_threads() {
    let rt = runtime_for::<block>(|_| {});
    let s = TestServer::start(rt.clone(), None).await;
    let w = Worker::spawn(&s.base, "block", "holder", &[]);
    // The first job runs on the event loop and holds it for 300 ms in one poll.
    let first = rt.submit("block", json!(300).into()).unwrap();
    assert_eq!(
        wait_final(&rt, "block", &first).await.status,
        JobStatus::Completed
    );
    let said = "now runs the endpoint's jobs on its handler threads";
    assert!(w.output().contains(said), "{}", w.output());
    assert_eq!(w.output().matches(said).count(), 1, "said once");
    // Now a long blocking job holds a handler thread, not the loop: a short job submitted
    // after it is taken, run and posted while it still blocks.
    let long = rt.submit("block", json!(4_000).into()).unwrap();
    wait_in_progress(&rt, "block", &long).await;
    let short = rt.submit("block", json!(1).into()).unwrap();
    let st = wait_final(&rt, "block", &short).await;
    assert_eq!(st.status, JobStatus::Completed);
    assert_eq!(
        rt.status("block", &long).unwrap().status,
        JobStatus::InProgress,
        "the short job finished while the long one blocked its thread"
    );
    assert_eq!(
        wait_final(&rt, "block", &long).await.output,
        Some(json!(4_000))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_in_place_fails_one_job_on_the_event_loop_with_a_fix_and_works_after() {
    let rt = runtime_for::<blocking_section>(|_| {});
    let s = TestServer::start(rt.clone(), None).await;
    let w = Worker::spawn(&s.base, "blocking_section", "sections", &[]);
    let first = rt.submit("blocking_section", json!(5).into()).unwrap();
    let st = wait_final(&rt, "blocking_section", &first).await;
    assert_eq!(st.status, JobStatus::Failed, "{st:?}");
    let f = failure(&st);
    assert_eq!(f.kind, FailureKind::Panic);
    for says in [
        "block_in_place needs a multi-threaded runtime",
        "next jobs on its handler threads",
        "spawn_blocking",
    ] {
        assert!(f.message.contains(says), "{says:?} in {}", f.message);
    }
    let second = rt.submit("blocking_section", json!(5).into()).unwrap();
    let st = wait_final(&rt, "blocking_section", &second).await;
    assert_eq!(st.status, JobStatus::Completed, "{st:?}\n{}", w.output());
    assert_eq!(st.output, Some(json!(5)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_rides_out_a_server_outage_and_delivers_its_result_afterwards() {
    let rt = runtime_for::<nap>(|_| {});
    let s = TestServer::start(rt.clone(), None).await;
    let port = s.base.rsplit(':').next().unwrap().to_string();
    let base = s.base.clone();
    let w = Worker::spawn(&base, "nap", "survivor", &[]);
    let id = rt.submit("nap", json!(1_500).into()).unwrap();
    wait_in_progress(&rt, "nap", &id).await;
    // The server goes away while the job runs; its result cannot be posted yet.
    s.stop().await;
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(rt.status("nap", &id).unwrap().status, JobStatus::InProgress);
    // It comes back on the same address: the retried result lands, and new jobs flow.
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}"))
        .await
        .unwrap();
    let back = tokio::spawn(
        endpoint_sdk::server::Server::new(rt.clone()).serve(listener, std::future::pending()),
    );
    let st = wait_final(&rt, "nap", &id).await;
    assert_eq!(
        (st.status, st.output),
        (JobStatus::Completed, Some(json!(1_500)))
    );
    let id2 = rt.submit("nap", json!(10).into()).unwrap();
    assert_eq!(
        wait_final(&rt, "nap", &id2).await.status,
        JobStatus::Completed
    );
    assert!(
        w.output().contains("reachable again") || w.output().contains("retrying"),
        "{}",
        w.output()
    );
    back.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_taking_jobs_and_drains_the_running_ones() {
    let rt = runtime_for::<nap>(|_| {});
    let s = TestServer::start(rt.clone(), None).await;
    let mut w = Worker::spawn(&s.base, "nap", "drainer", &[]);
    let running = rt.submit("nap", json!(1_500).into()).unwrap();
    wait_in_progress(&rt, "nap", &running).await;
    let waiting = rt.submit("nap", json!(1).into()).unwrap();
    w.signal("-TERM");
    assert_eq!(w.wait_exit(LONG), 0);
    assert_eq!(
        rt.status("nap", &running).unwrap().status,
        JobStatus::Completed,
        "the running job finished"
    );
    assert_eq!(
        rt.status("nap", &waiting).unwrap().status,
        JobStatus::InQueue,
        "no job taken after SIGTERM"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_init_exits_non_zero_with_the_reason() {
    let rt = runtime_for::<init_fails>(|_| {});
    let s = TestServer::start(rt.clone(), None).await;
    let mut w = Worker::spawn(&s.base, "init_fails", "i1", &[]);
    assert_eq!(w.wait_exit(LONG), 1);
    let out = w.output();
    assert!(
        out.contains("per-worker init `fail_init` failed: model weights missing"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_endpoint_to_serve_must_be_named_when_the_binary_has_several() {
    let mut w = Worker::spawn("http://127.0.0.1:9", "", "s1", &[("ENDPOINT_NAME", "")]);
    assert_eq!(w.wait_exit(LONG), 1);
    assert!(
        w.output()
            .contains("set ENDPOINT_NAME to the one this worker serves"),
        "{}",
        w.output()
    );
    let mut w = Worker::spawn("http://127.0.0.1:9", "nope", "s2", &[]);
    assert_eq!(w.wait_exit(LONG), 1);
    assert!(
        w.output()
            .contains("ENDPOINT_NAME=nope: this binary has no endpoint named `nope`"),
        "{}",
        w.output()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_alone_serves_jobs_runs_a_test_input_and_refuses_the_development_tools() {
    let rt = runtime_for::<echo>(|_| {});
    let s = TestServer::start(rt.clone(), None).await;
    let _w = Worker::spawn_bin(ONLY, &s.base, "echo", "only1", &[]);
    let id = rt.submit("echo", json!({ "n": 7 }).into()).unwrap();
    let st = wait_final(&rt, "echo", &id).await;
    assert_eq!(st.status, JobStatus::Completed, "{st:?}");
    assert_eq!(st.output, Some(json!({ "n": 7 })));

    let run = |args: &[&str]| {
        Command::new(ONLY)
            .args(args)
            .env_clear()
            .env("ENDPOINT_NAME", "echo")
            .output()
            .unwrap()
    };
    let out = run(&["worker", "--test-input", r#"{"input": {"n": 8}}"#]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains(r#""COMPLETED""#) && stdout.contains(r#""n": 8"#),
        "{stdout}"
    );
    let out = run(&["dev", "--port", "0"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("`dev`: this binary runs only as a worker")
            && stderr.contains("endpoint_sdk::main"),
        "{stderr}"
    );
    // `--endpoint` before ENDPOINT_NAME (echo), as `app worker` has it.
    let out = run(&["--endpoint", "nope", "--test-input", r#"{"input": 1}"#]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("no endpoint named `nope`"),
        "{stderr}"
    );
    let out = run(&["--help"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("[--test-input JSON]"));
}

#[test]
fn the_worker_alone_leaves_the_development_tools_out_of_the_binary() {
    // What only the development tools hold: the dashboard's page, `app dev`'s help.
    let markers = [
        "<title>app dev · endpoint-sdk</title>",
        "Run every endpoint locally behind Runpod's HTTP API",
    ];
    let holds = |bin: &str, marker: &str| {
        let bytes = std::fs::read(bin).unwrap();
        bytes.windows(marker.len()).any(|w| w == marker.as_bytes())
    };
    for marker in markers {
        assert!(holds(BIN, marker), "the full binary holds {marker:?}");
        assert!(!holds(ONLY, marker), "the worker alone holds {marker:?}");
    }
    let (full, only) = (
        std::fs::metadata(BIN).unwrap().len(),
        std::fs::metadata(ONLY).unwrap().len(),
    );
    assert!(only < full, "worker alone {only} bytes, full {full}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_are_platform_json_lines_and_never_contain_the_api_key() {
    const KEY: &str = "rpa_SUITE-SECRET_KEY_0123456789";
    let rt = runtime_for::<echo>(|_| {});
    let s = TestServer::start(rt.clone(), Some(KEY)).await;
    let mut w = Worker::spawn(
        &s.base,
        "echo",
        "logger",
        &[
            ("RUNPOD_AI_API_KEY", KEY),
            ("RUNPOD_ENDPOINT_ID", "echo"),
            ("RUNPOD_LOG_LEVEL", "DEBUG"),
        ],
    );
    let id = rt.submit("echo", json!("hi").into()).unwrap();
    assert_eq!(
        wait_final(&rt, "echo", &id).await.output,
        Some(json!("hi")),
        "the key authenticates"
    );
    w.signal("-TERM");
    assert_eq!(w.wait_exit(LONG), 0);
    let out = w.output();
    assert!(
        !out.contains(KEY),
        "the API key leaked into the log:\n{out}"
    );
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    assert!(lines.iter().all(|l| l["level"].is_string()
        && l["message"].is_string()
        && l.get("requestId").is_some()));
    assert!(
        lines.iter().any(|l| l["requestId"] == json!(id)
            && l["message"].as_str().unwrap().starts_with("job completed")),
        "no `job completed` line with the job's requestId:\n{out}"
    );
}
