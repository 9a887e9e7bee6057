//! The local runtime's semantics, in-process: scaling, idle timeout, init, concurrency,
//! execution timeout, cancellation, retry, purge, TTL, retention, priorities, panics, streams.
//!
//! Every test runs on Tokio's paused clock with the platform's real figures (execution timeouts
//! of at least 5 s, idle timeouts and TTLs in seconds, retention windows in minutes): virtual
//! time jumps to the next timer whenever the runtime is idle, so a test lives through minutes of
//! platform time in milliseconds. No assertion is about speed: each test waits (with a bound in
//! virtual time) for a state to be reached and asserts on states and orderings.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use endpoint_sdk::EndpointDef;
use endpoint_sdk::config::Scaler;
use endpoint_sdk::local::{JobReport, LocalRuntime, RuntimeError, RuntimeEvent, StopReason};
use endpoint_sdk::prelude::*;
use endpoint_sdk::protocol::{FailureKind, JobFailure, JobStatus};
use endpoint_sdk::protocol::{Policy, RunRequest};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The longest any test waits for a state, in virtual time.
const LONG: Duration = Duration::from_secs(3600);

/// Reads variables through its `Ctx`, as deployed: its `env(..)`, a declared secret, and one it
/// does not declare.
#[endpoint(
    cpu = "cpu3c-2-4",
    env(HF_HOME = "/runpod-volume/hf"),
    secrets = [LOCAL_FIDELITY_TOKEN],
    execution_timeout_ms = 60_000
)]
async fn configured(ctx: Ctx, keys: Vec<String>) -> Vec<Option<String>> {
    keys.iter().map(|k| ctx.env(k)).collect()
}

#[endpoint(cpu = "cpu3c-2-4", workers = (0, 3), execution_timeout_ms = 60_000)]
async fn echo(v: Value) -> Value {
    v
}

/// Sleeps `ms` (honouring cancellation: the future is simply dropped), then returns `ms`.
#[endpoint(cpu = "cpu3c-2-4", workers = (0, 3), scaler = request_count(1), execution_timeout_ms = 60_000)]
async fn nap(ms: u64) -> u64 {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    ms
}

static HANG_DROPPED: AtomicUsize = AtomicUsize::new(0);

#[endpoint(cpu = "cpu3c-2-4", workers = (0, 1), execution_timeout_ms = 60_000)]
async fn hang(_x: u64) -> u64 {
    struct Guard;
    impl Drop for Guard {
        fn drop(&mut self) {
            HANG_DROPPED.fetch_add(1, Ordering::SeqCst);
        }
    }
    let _guard = Guard;
    std::future::pending::<()>().await;
    0
}

static STUCK_DROPPED: AtomicUsize = AtomicUsize::new(0);
static STUCK_STARTED: AtomicUsize = AtomicUsize::new(0);

/// Like `hang`, with counters of its own (tests run in parallel).
#[endpoint(cpu = "cpu3c-2-4", workers = (0, 1), execution_timeout_ms = 60_000)]
async fn stuck(_x: u64) -> u64 {
    struct Guard;
    impl Drop for Guard {
        fn drop(&mut self) {
            STUCK_DROPPED.fetch_add(1, Ordering::SeqCst);
        }
    }
    STUCK_STARTED.fetch_add(1, Ordering::SeqCst);
    let _guard = Guard;
    std::future::pending::<()>().await;
    0
}

#[derive(Debug, Serialize, Deserialize, PartialEq, thiserror::Error)]
enum FlakyError {
    #[error("attempt {0} failed on purpose")]
    Attempt(usize),
}

static FLAKY_CALLS: AtomicUsize = AtomicUsize::new(0);

/// Fails on its first call, succeeds afterwards.
#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 60_000)]
async fn flaky() -> Result<String, FlakyError> {
    let n = FLAKY_CALLS.fetch_add(1, Ordering::SeqCst) + 1;
    if n == 1 {
        Err(FlakyError::Attempt(n))
    } else {
        Ok(format!("ok on attempt {n}"))
    }
}

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 60_000)]
async fn boom(msg: String) -> String {
    if msg == "panic" {
        panic!("asked to panic");
    }
    msg
}

static INITS: AtomicUsize = AtomicUsize::new(0);

struct Model {
    loaded_by: usize,
}

/// A slow init: 30 s to load the model.
async fn load_model() -> Result<Model, String> {
    tokio::time::sleep(Duration::from_secs(30)).await;
    Ok(Model {
        loaded_by: INITS.fetch_add(1, Ordering::SeqCst) + 1,
    })
}

#[endpoint(cpu = "cpu3c-2-4", workers = (0, 2), init = load_model, execution_timeout_ms = 60_000)]
async fn infer(model: &Model, _q: String) -> usize {
    model.loaded_by
}

fn bad_init() -> Result<(), String> {
    Err("weights not found at /runpod-volume/model.bin".into())
}

#[endpoint(cpu = "cpu3c-2-4", init = bad_init, execution_timeout_ms = 60_000)]
async fn broken() -> u32 {
    1
}

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 60_000)]
async fn chatter(ctx: Ctx, n: u32) -> u32 {
    for i in 0..n {
        ctx.progress(json!({ "done": i }));
        ctx.stream(format!("token-{i}"));
    }
    // Give a reader a chance to see progress while running.
    tokio::time::sleep(Duration::from_secs(10)).await;
    n
}

fn def<E: endpoint_sdk::Handler>(
    f: impl FnOnce(&mut endpoint_sdk::config::EndpointConfig),
) -> EndpointDef {
    let mut d = EndpointDef::of::<E>();
    f(&mut d.config);
    d
}

async fn until<T>(what: &str, f: impl FnMut() -> Option<T>) -> T {
    support::until(what, LONG, f).await
}

#[tokio::test(start_paused = true)]
async fn runs_a_job_and_reports_the_platform_status_object() {
    let rt = LocalRuntime::builder().endpoint::<echo>().build().unwrap();
    let st = rt
        .run_sync("echo", json!({"a": 1}).into(), LONG)
        .await
        .unwrap();
    assert_eq!(st.status, JobStatus::Completed);
    assert_eq!(st.output, Some(json!({"a": 1})));
    assert!(st.id.starts_with("sync-"));
    assert!(st.worker_id.is_some());
    assert!(st.delay_time.is_some() && st.execution_time.is_some());
    assert_eq!(rt.status("echo", &st.id).unwrap(), st);
}

#[tokio::test(start_paused = true)]
async fn scales_up_under_load_to_max_and_never_beyond() {
    let rt = LocalRuntime::builder().endpoint::<nap>().build().unwrap();
    let mut events = rt.events();
    let ids: Vec<String> = (0..12)
        .map(|_| rt.submit("nap", json!(15_000).into()).unwrap())
        .collect();
    for id in &ids {
        let st = rt.wait("nap", id, LONG).await.unwrap();
        assert_eq!(st.status, JobStatus::Completed);
    }
    let (mut alive, mut peak) = (0i32, 0i32);
    while let Ok(e) = events.try_recv() {
        match e {
            RuntimeEvent::WorkerStarting { .. } => alive += 1,
            RuntimeEvent::WorkerStopped { .. } => alive -= 1,
            _ => {}
        }
        peak = peak.max(alive);
    }
    assert_eq!(
        peak, 3,
        "request_count(1) with 12 jobs wants 12 workers, capped at max = 3"
    );
}

#[tokio::test(start_paused = true)]
async fn idle_workers_stop_after_idle_timeout_but_never_below_min() {
    let rt = LocalRuntime::builder()
        .definition(def::<nap>(|c| {
            c.workers.min = 1;
            c.idle_timeout_s = 5;
        }))
        .build()
        .unwrap();
    let mut events = rt.events();
    until("the minimum worker is ready", || {
        (rt.health("nap").unwrap().workers.ready == 1).then_some(())
    })
    .await;
    let ids: Vec<String> = (0..6)
        .map(|_| rt.submit("nap", json!(10_000).into()).unwrap())
        .collect();
    for id in &ids {
        rt.wait("nap", id, LONG).await.unwrap();
    }
    until("workers scale back to the minimum", || {
        let w = rt.health("nap").unwrap().workers;
        (w.ready + w.initializing == 1).then_some(())
    })
    .await;
    // Stay a while: idle stops must not take the endpoint below its minimum.
    tokio::time::sleep(Duration::from_secs(30)).await;
    let w = rt.health("nap").unwrap().workers;
    assert_eq!(w.ready, 1, "{w:?}");
    let mut stopped = 0;
    while let Ok(e) = events.try_recv() {
        if let RuntimeEvent::WorkerStopped { reason, .. } = e {
            assert_eq!(reason, StopReason::IdleTimeout);
            stopped += 1;
        }
    }
    assert_eq!(stopped, 2, "scaled 1 → 3 under load, then back to 1");
}

#[tokio::test(start_paused = true)]
async fn init_runs_once_per_worker_and_initializing_workers_take_no_jobs() {
    let rt = LocalRuntime::builder()
        .endpoint::<infer>()
        .cold_start(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut events = rt.events();
    let before = INITS.load(Ordering::SeqCst);
    let id = rt.submit("infer", json!("q").into()).unwrap();
    until("a worker is initializing", || {
        (rt.health("infer").unwrap().workers.initializing == 1).then_some(())
    })
    .await;
    assert_eq!(
        rt.status("infer", &id).unwrap().status,
        JobStatus::InQueue,
        "no job before init ends"
    );
    let st = rt.wait("infer", &id, LONG).await.unwrap();
    assert_eq!(st.status, JobStatus::Completed);
    // More jobs on the same worker reuse its state: init does not run again.
    for _ in 0..3 {
        let st = rt
            .run_sync("infer", json!("again").into(), LONG)
            .await
            .unwrap();
        assert_eq!(st.output, Some(json!(INITS.load(Ordering::SeqCst))));
    }
    assert_eq!(INITS.load(Ordering::SeqCst) - before, 1);
    let (mut ready_at, mut started_at) = (None, None);
    let mut n = 0;
    while let Ok(e) = events.try_recv() {
        n += 1;
        match e {
            RuntimeEvent::WorkerReady { startup, .. } => {
                assert!(
                    startup >= Duration::from_secs(40),
                    "cold start + init: {startup:?}"
                );
                ready_at.get_or_insert(n);
            }
            RuntimeEvent::JobStarted { .. } => {
                started_at.get_or_insert(n);
            }
            _ => {}
        }
    }
    assert!(
        ready_at.unwrap() < started_at.unwrap(),
        "the job started only after the worker was ready"
    );
}

#[tokio::test(start_paused = true)]
async fn a_failing_init_is_reported_and_takes_no_jobs() {
    let rt = LocalRuntime::builder()
        .endpoint::<broken>()
        .build()
        .unwrap();
    let mut events = rt.events();
    let id = rt.submit("broken", json!({}).into()).unwrap();
    let reason = until("the worker stops", || {
        loop {
            match events.try_recv() {
                Ok(RuntimeEvent::WorkerStopped { reason, .. }) => return Some(reason),
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
    })
    .await;
    let StopReason::InitFailed(msg) = reason else {
        panic!("{reason:?}")
    };
    assert!(
        msg.contains("bad_init") && msg.contains("weights not found"),
        "{msg}"
    );
    assert_eq!(rt.health("broken").unwrap().workers.unhealthy, 1);
    assert_eq!(rt.status("broken", &id).unwrap().status, JobStatus::InQueue);
}

#[tokio::test(start_paused = true)]
async fn concurrency_runs_several_jobs_on_one_worker() {
    let rt = LocalRuntime::builder()
        .definition(def::<nap>(|c| {
            c.workers.max = 1;
            c.concurrency = 4;
        }))
        .build()
        .unwrap();
    let ids: Vec<String> = (0..4)
        .map(|_| rt.submit("nap", json!(20_000).into()).unwrap())
        .collect();
    until("four jobs run at once", || {
        (rt.health("nap").unwrap().jobs.in_progress == 4).then_some(())
    })
    .await;
    let mut workers = std::collections::HashSet::new();
    for id in &ids {
        workers.insert(rt.wait("nap", id, LONG).await.unwrap().worker_id.unwrap());
    }
    assert_eq!(workers.len(), 1, "one worker ran all four");
}

/// The next `JobStarted` or `JobFinished` of `nap`, as `("started" | "finished", job)`.
async fn next_job_event(
    events: &mut tokio::sync::broadcast::Receiver<RuntimeEvent>,
) -> (&'static str, String) {
    loop {
        match tokio::time::timeout(LONG, events.recv())
            .await
            .unwrap()
            .unwrap()
        {
            RuntimeEvent::JobStarted { endpoint, job, .. } if &*endpoint == "nap" => {
                return ("started", job.to_string());
            }
            RuntimeEvent::JobFinished { endpoint, job, .. } if &*endpoint == "nap" => {
                return ("finished", job.to_string());
            }
            _ => {}
        }
    }
}

/// `/runsync` starts a job on a free slot of a ready worker and runs it in the caller's task: the
/// worker's concurrency still holds, and the job runs to its end when the caller stops waiting
/// (its wait ran out, or it went away), or ends when it is cancelled.
#[tokio::test(start_paused = true)]
async fn runsync_jobs_keep_to_the_workers_slots_and_outlive_their_caller() {
    let mut b = LocalRuntime::builder().definition(def::<nap>(|c| {
        c.workers.min = 1;
        c.workers.max = 1;
        c.concurrency = 1;
    }));
    let mut events = b.events();
    let rt = b.build().unwrap();
    until("the worker is ready", || {
        (rt.health("nap").unwrap().workers.ready == 1).then_some(())
    })
    .await;

    // Two at once on one slot: the second starts after the first ends.
    let (a, b2) = tokio::join!(
        rt.run_sync("nap", json!(20_000).into(), LONG),
        rt.run_sync("nap", json!(20_000).into(), LONG)
    );
    assert_eq!(a.unwrap().status, JobStatus::Completed);
    assert_eq!(b2.unwrap().status, JobStatus::Completed);
    let mut order = Vec::new();
    for _ in 0..4 {
        order.push(next_job_event(&mut events).await);
    }
    assert_eq!(
        order.iter().map(|(what, _)| *what).collect::<Vec<_>>(),
        ["started", "finished", "started", "finished"],
        "{order:?}"
    );
    assert_eq!(order[0].1, order[1].1);

    // The wait runs out: IN_PROGRESS now, COMPLETED later.
    let st = rt
        .run_sync("nap", json!(20_000).into(), Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(st.status, JobStatus::InProgress, "{st:?}");
    let done = rt.wait("nap", &st.id, LONG).await.unwrap();
    assert_eq!(
        (done.status, done.output),
        (JobStatus::Completed, Some(json!(20_000)))
    );

    // The caller goes away mid-job: the job still completes.
    let _ = next_job_event(&mut events).await; // started (the job above)
    let _ = next_job_event(&mut events).await; // finished
    let rt2 = rt.clone();
    let caller = tokio::spawn(async move { rt2.run_sync("nap", json!(20_000).into(), LONG).await });
    let (what, id) = next_job_event(&mut events).await;
    assert_eq!(what, "started");
    caller.abort();
    assert!(caller.await.unwrap_err().is_cancelled());
    let done = rt.wait("nap", &id, LONG).await.unwrap();
    assert_eq!(
        (done.status, done.output),
        (JobStatus::Completed, Some(json!(20_000)))
    );
    let _ = next_job_event(&mut events).await; // finished

    // Cancelled while it runs in its caller's task: the caller gets CANCELLED, the slot is free.
    let rt2 = rt.clone();
    let caller = tokio::spawn(async move { rt2.run_sync("nap", json!(30_000).into(), LONG).await });
    let (_, id) = next_job_event(&mut events).await;
    rt.cancel("nap", &id).unwrap();
    let st = caller.await.unwrap().unwrap();
    assert_eq!(st.status, JobStatus::Cancelled, "{st:?}");
    let st = rt.run_sync("nap", json!(1).into(), LONG).await.unwrap();
    assert_eq!(st.status, JobStatus::Completed, "the slot was freed");
}

#[tokio::test(start_paused = true)]
async fn execution_timeout_ends_the_job_cancels_its_task_and_frees_the_slot() {
    let rt = LocalRuntime::builder()
        .definition(def::<hang>(|c| c.execution_timeout_ms = Some(5_000)))
        .build()
        .unwrap();
    let dropped = HANG_DROPPED.load(Ordering::SeqCst);
    let id = rt.submit("hang", json!(1).into()).unwrap();
    let st = rt.wait("hang", &id, LONG).await.unwrap();
    assert_eq!(st.status, JobStatus::TimedOut);
    let failure = JobFailure::from_wire(st.error.as_deref().unwrap());
    assert_eq!(failure.kind, FailureKind::Timeout);
    assert_eq!(
        failure.message,
        "the job ran past its execution timeout of 5000 ms and was stopped"
    );
    until("the handler's future is dropped", || {
        (HANG_DROPPED.load(Ordering::SeqCst) > dropped).then_some(())
    })
    .await;
    // max 1 worker, concurrency 1: a second job can only run if the slot was freed.
    let id2 = rt.submit("hang", json!(2).into()).unwrap();
    until("the next job starts", || {
        (rt.status("hang", &id2).unwrap().status != JobStatus::InQueue).then_some(())
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_policy_execution_timeout_overrides_the_endpoint_ceiling() {
    let rt = LocalRuntime::builder()
        .definition(def::<nap>(|c| c.execution_timeout_ms = Some(5_000)))
        .build()
        .unwrap();
    let req = RunRequest {
        input: json!(8_000),
        policy: Some(Policy {
            execution_timeout: Some(10_000),
            ..Policy::default()
        }),
        ..RunRequest::default()
    };
    let st = rt.run_sync("nap", req, LONG).await.unwrap();
    assert_eq!(st.status, JobStatus::Completed, "{st:?}");
    let st = rt.run_sync("nap", json!(8_000).into(), LONG).await.unwrap();
    assert_eq!(
        st.status,
        JobStatus::TimedOut,
        "without the policy the 5 s ceiling applies"
    );
    let bad = RunRequest {
        input: json!(1),
        policy: Some(Policy {
            execution_timeout: Some(10),
            ..Policy::default()
        }),
        ..RunRequest::default()
    };
    assert!(
        matches!(rt.submit("nap", bad), Err(RuntimeError::Policy(m)) if m.to_string().contains("5000 ms"))
    );
}

#[tokio::test(start_paused = true)]
async fn cancel_a_queued_job_and_a_running_one() {
    let rt = LocalRuntime::builder()
        .definition(def::<stuck>(|_| {}))
        .build()
        .unwrap();
    let started = STUCK_STARTED.load(Ordering::SeqCst);
    let dropped = STUCK_DROPPED.load(Ordering::SeqCst);
    let running = rt.submit("stuck", json!(1).into()).unwrap();
    let queued = rt.submit("stuck", json!(2).into()).unwrap();
    until("the first job runs", || {
        (rt.status("stuck", &running).unwrap().status == JobStatus::InProgress).then_some(())
    })
    .await;
    let st = rt.cancel("stuck", &queued).unwrap();
    assert_eq!(st.status, JobStatus::Cancelled);
    let st = rt.cancel("stuck", &running).unwrap();
    assert_eq!(st.status, JobStatus::Cancelled);
    until("the running handler is dropped", || {
        (STUCK_DROPPED.load(Ordering::SeqCst) > dropped).then_some(())
    })
    .await;
    assert_eq!(
        STUCK_STARTED.load(Ordering::SeqCst) - started,
        1,
        "the cancelled queued job never ran"
    );
    // Cancelling a finished job changes nothing.
    assert_eq!(
        rt.cancel("stuck", &running).unwrap().status,
        JobStatus::Cancelled
    );
}

#[tokio::test(start_paused = true)]
async fn retry_requeues_failed_jobs_under_the_same_id_and_only_them() {
    let rt = LocalRuntime::builder().endpoint::<flaky>().build().unwrap();
    let id = rt.submit("flaky", json!({}).into()).unwrap();
    let st = rt.wait("flaky", &id, LONG).await.unwrap();
    assert_eq!(st.status, JobStatus::Failed);
    let failure = JobFailure::from_wire(st.error.as_deref().unwrap());
    assert_eq!(failure.kind, FailureKind::Handler);
    assert_eq!(failure.message, "attempt 1 failed on purpose");
    assert_eq!(
        failure.detail,
        Some(json!({"Attempt": 1})),
        "the typed error travels intact"
    );

    assert_eq!(rt.retry("flaky", &id).unwrap().status, JobStatus::InQueue);
    let st = rt.wait("flaky", &id, LONG).await.unwrap();
    assert_eq!(
        (st.status, st.output),
        (JobStatus::Completed, Some(json!("ok on attempt 2")))
    );
    assert!(st.error.is_none());
    assert_eq!(rt.health("flaky").unwrap().jobs.retried, 1);
    assert!(matches!(
        rt.retry("flaky", &id),
        Err(RuntimeError::NotRetryable {
            status: JobStatus::Completed,
            ..
        })
    ));
}

#[tokio::test(start_paused = true)]
async fn purge_removes_queued_jobs_and_leaves_running_ones() {
    let rt = LocalRuntime::builder()
        .definition(def::<nap>(|c| c.workers.max = 1))
        .build()
        .unwrap();
    let running = rt.submit("nap", json!(30_000).into()).unwrap();
    until("the first job runs", || {
        (rt.status("nap", &running).unwrap().status == JobStatus::InProgress).then_some(())
    })
    .await;
    let queued: Vec<String> = (0..5)
        .map(|_| rt.submit("nap", json!(1).into()).unwrap())
        .collect();
    assert_eq!(rt.purge_queue("nap").unwrap(), 5);
    for id in &queued {
        assert_eq!(rt.status("nap", id).unwrap().status, JobStatus::Cancelled);
    }
    assert_eq!(
        rt.wait("nap", &running, LONG).await.unwrap().status,
        JobStatus::Completed
    );
    assert_eq!(rt.purge_queue("nap").unwrap(), 0);
}

#[tokio::test(start_paused = true)]
async fn ttl_deletes_a_job_even_before_it_runs_and_results_expire() {
    let rt = LocalRuntime::builder()
        .definition(def::<nap>(|c| c.workers.max = 1))
        .build()
        .unwrap();
    // The platform's shortest TTL, 10 s, on a job that runs 30 s and one queued behind it.
    let ttl = |ms: u64| RunRequest {
        input: json!(ms),
        policy: Some(Policy {
            ttl: Some(10_000),
            ..Policy::default()
        }),
        ..RunRequest::default()
    };
    let submitted = tokio::time::Instant::now();
    let blocker = rt.submit("nap", ttl(30_000)).unwrap();
    let starved = rt.submit("nap", ttl(1)).unwrap();
    until("the queued job's TTL deletes it", || {
        matches!(
            rt.status("nap", &starved),
            Err(RuntimeError::UnknownJob { .. })
        )
        .then_some(())
    })
    .await;
    // The TTL is a hard limit: the running job is deleted too.
    until("the running job's TTL deletes it", || {
        matches!(
            rt.status("nap", &blocker),
            Err(RuntimeError::UnknownJob { .. })
        )
        .then_some(())
    })
    .await;
    let lived = submitted.elapsed();
    assert!(
        lived >= Duration::from_secs(10) && lived < Duration::from_secs(30),
        "deleted at its TTL, before the job would have ended: {lived:?}"
    );

    // A `/run` result is kept for 30 minutes, then expires.
    let rt = LocalRuntime::builder().endpoint::<echo>().build().unwrap();
    let id = rt.submit("echo", json!(1).into()).unwrap();
    assert_eq!(
        rt.wait("echo", &id, LONG).await.unwrap().status,
        JobStatus::Completed
    );
    let finished = tokio::time::Instant::now();
    tokio::time::sleep(Duration::from_secs(29 * 60)).await;
    assert_eq!(rt.status("echo", &id).unwrap().status, JobStatus::Completed);
    until("the result expires", || {
        matches!(rt.status("echo", &id), Err(RuntimeError::UnknownJob { .. })).then_some(())
    })
    .await;
    assert!(finished.elapsed() >= Duration::from_secs(30 * 60));
}

#[tokio::test(start_paused = true)]
async fn low_priority_jobs_do_not_trigger_scaling_and_run_after_the_others() {
    let rt = LocalRuntime::builder()
        .definition(def::<nap>(|c| {
            c.workers.max = 1;
            c.scaler = Scaler::QueueDelay(1);
        }))
        .build()
        .unwrap();
    let low = RunRequest {
        input: json!(1),
        policy: Some(Policy {
            low_priority: Some(true),
            ..Policy::default()
        }),
        ..RunRequest::default()
    };
    let mut events = rt.events();
    let low_id = rt.submit("nap", low).unwrap();
    tokio::time::sleep(Duration::from_secs(10)).await;
    let w = rt.health("nap").unwrap().workers;
    assert_eq!(
        (w.initializing, w.ready),
        (0, 0),
        "a low-priority job alone starts no worker"
    );
    let normal = rt.submit("nap", json!(1).into()).unwrap();
    let n = rt.wait("nap", &normal, LONG).await.unwrap();
    let l = rt.wait("nap", &low_id, LONG).await.unwrap();
    assert_eq!(
        (n.status, l.status),
        (JobStatus::Completed, JobStatus::Completed)
    );
    let mut started = Vec::new();
    while let Ok(e) = events.try_recv() {
        if let RuntimeEvent::JobStarted { job, .. } = e {
            started.push(job.to_string());
        }
    }
    assert_eq!(started, vec![normal, low_id], "the normal job went first");
}

#[tokio::test(start_paused = true)]
async fn a_panicking_handler_fails_its_job_and_the_worker_goes_on() {
    let rt = LocalRuntime::builder().endpoint::<boom>().build().unwrap();
    let st = rt
        .run_sync("boom", json!("panic").into(), LONG)
        .await
        .unwrap();
    assert_eq!(st.status, JobStatus::Failed);
    let f = JobFailure::from_wire(st.error.as_deref().unwrap());
    assert_eq!(f.kind, FailureKind::Panic);
    assert!(f.message.contains("asked to panic"), "{}", f.message);
    let st2 = rt
        .run_sync("boom", json!("fine").into(), LONG)
        .await
        .unwrap();
    assert_eq!(st2.output, Some(json!("fine")));
    assert_eq!(
        st.worker_id, st2.worker_id,
        "the same worker took the next job"
    );
}

#[tokio::test(start_paused = true)]
async fn bad_input_fails_the_job_with_a_clear_message() {
    let rt = LocalRuntime::builder().endpoint::<nap>().build().unwrap();
    let st = rt
        .run_sync("nap", json!({"ms": "ten"}).into(), LONG)
        .await
        .unwrap();
    assert_eq!(st.status, JobStatus::Failed);
    let f = JobFailure::from_wire(st.error.as_deref().unwrap());
    assert_eq!(f.kind, FailureKind::Input);
    assert!(
        f.message.contains("the input type of endpoint `nap`"),
        "{}",
        f.message
    );
}

#[tokio::test(start_paused = true)]
async fn progress_and_stream_chunks_reach_readers_in_order() {
    let rt = LocalRuntime::builder()
        .endpoint::<chatter>()
        .build()
        .unwrap();
    let id = rt.submit("chatter", json!(3).into()).unwrap();
    let progress = until("progress shows while running", || {
        let st = rt.status("chatter", &id).unwrap();
        (st.status == JobStatus::InProgress && st.output.is_some()).then_some(st.output)
    })
    .await;
    assert_eq!(progress, Some(json!({"done": 2})));
    let (_, first) = rt.stream("chatter", &id).unwrap();
    assert_eq!(
        first,
        vec![json!("token-0"), json!("token-1"), json!("token-2")]
    );
    let (_, again) = rt.stream("chatter", &id).unwrap();
    assert!(again.is_empty(), "a chunk is returned once");
    assert_eq!(
        rt.wait("chatter", &id, LONG).await.unwrap().output,
        Some(json!(3)),
        "the result replaces progress"
    );
}

#[tokio::test(start_paused = true)]
async fn unknown_endpoints_and_jobs_are_named_in_the_error() {
    let rt = LocalRuntime::builder().endpoint::<echo>().build().unwrap();
    let e = rt.submit("ehco", json!(1).into()).unwrap_err();
    assert_eq!(e.to_string(), "no endpoint named `ehco`; endpoints: echo");
    let e = rt.status("echo", "nope").unwrap_err();
    assert!(e.to_string().contains("no job `nope` on endpoint `echo`"));
}

#[tokio::test(start_paused = true)]
async fn a_full_queue_refuses_new_jobs() {
    let rt = LocalRuntime::builder()
        .definition(def::<nap>(|c| c.workers.max = 1))
        .with_options(|o| o.queue_limit = Some(3))
        .build()
        .unwrap();
    for _ in 0..3 {
        rt.submit(
            "nap",
            RunRequest {
                input: json!(1),
                policy: Some(Policy {
                    low_priority: Some(true),
                    ..Policy::default()
                }),
                ..RunRequest::default()
            },
        )
        .unwrap();
    }
    assert!(matches!(
        rt.submit("nap", json!(1).into()),
        Err(RuntimeError::QueueFull { limit: 3, .. })
    ));
}

#[tokio::test(start_paused = true)]
async fn results_beyond_the_retention_cap_go_oldest_first() {
    let rt = LocalRuntime::builder()
        .definition(def::<echo>(|c| c.workers.max = 1))
        .with_options(|o| {
            o.max_retained_results = 3;
        })
        .build()
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..5 {
        let st = rt.run_sync("echo", json!(i).into(), LONG).await.unwrap();
        assert_eq!(st.status, JobStatus::Completed);
        ids.push(st.id);
    }
    until("the two oldest results are dropped", || {
        ids[..2]
            .iter()
            .all(|id| matches!(rt.status("echo", id), Err(RuntimeError::UnknownJob { .. })))
            .then_some(())
    })
    .await;
    for (i, id) in ids[2..].iter().enumerate() {
        assert_eq!(
            rt.status("echo", id).unwrap().output,
            Some(json!(i + 2)),
            "the newest three stay"
        );
    }
}

/// The worker-side API, in-process: an external worker that goes silent for the platform's
/// lost-worker window (30 s) has its job requeued for another worker, whose result counts; the
/// lost worker's late result is ignored, and a cancelled job reaches its worker through job-stop.
#[tokio::test(start_paused = true)]
async fn an_external_worker_silent_for_the_lost_worker_window_loses_its_job_to_another() {
    let rt = LocalRuntime::builder()
        .endpoint::<echo>()
        .served_externally("echo")
        .build()
        .unwrap();
    let poll = Duration::from_secs(20);
    let id = rt.submit("echo", json!(1).into()).unwrap();
    let jobs = rt.job_take("echo", "w1", 1, poll).await.unwrap();
    assert_eq!(jobs[0].id, id);
    assert_eq!(jobs[0].input, json!(1));
    let taken = tokio::time::Instant::now();
    // w2 keeps polling, as a worker does; w1 says nothing more.
    let jobs = loop {
        let jobs = rt.job_take("echo", "w2", 1, poll).await.unwrap();
        if !jobs.is_empty() {
            break jobs;
        }
    };
    assert_eq!(jobs[0].id, id, "the same job, requeued");
    assert!(
        taken.elapsed() > Duration::from_secs(30),
        "{:?}",
        taken.elapsed()
    );
    rt.job_done("echo", "w2", &id, JobReport::Output(json!("w2")), false)
        .unwrap();
    rt.job_done("echo", "w1", &id, JobReport::Output(json!("late")), false)
        .unwrap();
    let st = rt.status("echo", &id).unwrap();
    assert_eq!(
        (st.status, st.output, st.worker_id.as_deref()),
        (JobStatus::Completed, Some(json!("w2")), Some("w2"))
    );

    // A job cancelled while w2 runs it reaches w2 through job-stop.
    let id = rt.submit("echo", json!(2).into()).unwrap();
    assert_eq!(rt.job_take("echo", "w2", 1, poll).await.unwrap()[0].id, id);
    let stops = tokio::spawn({
        let rt = rt.clone();
        async move { rt.job_stop("echo", "w2", poll).await.unwrap() }
    });
    tokio::task::yield_now().await;
    rt.cancel("echo", &id).unwrap();
    assert_eq!(stops.await.unwrap(), vec![id.clone()]);
    assert!(matches!(
        rt.job_done(
            "echo",
            "w2",
            "no-such-job",
            JobReport::Output(json!(0)),
            false
        ),
        Err(RuntimeError::UnknownJob { .. })
    ));
}

#[tokio::test(start_paused = true)]
async fn handlers_see_their_env_and_declared_secrets_locally_and_nothing_else() {
    // SAFETY: no other test reads or writes these variables.
    unsafe {
        std::env::set_var("LOCAL_FIDELITY_TOKEN", "s3cret-SUITE-SECRET");
        std::env::set_var("LOCAL_FIDELITY_UNDECLARED", "only in this shell");
    }
    let rt = LocalRuntime::builder()
        .endpoint::<configured>()
        .build()
        .unwrap();
    let keys = [
        "HF_HOME",
        "LOCAL_FIDELITY_TOKEN",
        "LOCAL_FIDELITY_UNDECLARED",
    ]
    .map(String::from)
    .to_vec();
    let st = rt
        .run_sync("configured", json!(keys).into(), LONG)
        .await
        .unwrap();
    assert_eq!(st.status, JobStatus::Completed, "{st:?}");
    assert_eq!(
        st.output,
        Some(json!(["/runpod-volume/hf", "s3cret-SUITE-SECRET", null])),
        "an undeclared variable of the developer's shell would not exist deployed"
    );
}

#[tokio::test(start_paused = true)]
async fn a_jobs_call_tree_outlives_the_records_of_its_calls() {
    use endpoint_tests::{chain_mid, chain_top, time_left};
    let rt = LocalRuntime::builder()
        .endpoint::<chain_top>()
        .endpoint::<chain_mid>()
        .endpoint::<time_left>()
        .build()
        .unwrap();
    let id = rt.submit("chain_top", json!(1).into()).unwrap();
    let st = until("chain_top ended", || {
        rt.status("chain_top", &id)
            .ok()
            .filter(|s| s.status.is_final())
    })
    .await;
    assert_eq!(st.status, JobStatus::Completed, "{st:?}");
    // chain_top → chain_mid → time_left, and chain_top → time_left.
    let check = |rt: &LocalRuntime| {
        let detail = rt.job_detail("chain_top", &id).unwrap();
        let mut calls: Vec<_> = detail.calls.iter().collect();
        calls.sort_by(|a, b| a.call.endpoint.cmp(&b.call.endpoint));
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].call.endpoint, "chain_mid");
        assert_eq!(calls[0].calls.len(), 1);
        assert_eq!(calls[0].calls[0].call.endpoint, "time_left");
        assert!(calls[1].calls.is_empty());
        calls[0].call.job_id.clone().unwrap()
    };
    let mid_job = check(&rt);
    assert!(rt.job_detail("chain_mid", &mid_job).is_ok());
    // A call's job is a /runsync job, kept a minute; the top job (/run) half an hour.
    tokio::time::sleep(Duration::from_secs(120)).await;
    assert!(
        rt.job_detail("chain_mid", &mid_job).is_err(),
        "the call's own record is gone"
    );
    check(&rt);
}

/// A model's budget: Llama 3.1 8B at fp16 with 8k-token sessions on a 24 GB card holds 6
/// sessions (15.0 GB of weights, 1 GB each, within 21.6 GB), so 6 jobs at once per worker.
#[endpoint(
    gpu = NVIDIA_GEFORCE_RTX_4090,
    workers = (0, 1),
    execution_timeout_ms = 60_000,
    model(preset = LLAMA_3_1_8B, context = 8_192)
)]
async fn small_llm(ms: u64) -> u64 {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    ms
}

#[tokio::test(start_paused = true)]
async fn a_model_endpoint_reports_each_workers_simulated_gpu_memory() {
    assert_eq!(small_llm::CONFIG.concurrency, 6, "the budget's sessions");
    let rt = LocalRuntime::builder()
        .endpoint::<small_llm>()
        .endpoint::<nap>()
        .build()
        .unwrap();
    let ids: Vec<String> = (0..2)
        .map(|_| rt.submit("small_llm", json!(30_000).into()).unwrap())
        .collect();
    let g = until("both jobs running on the one worker", || {
        let g = rt
            .gpu_memory("small_llm")
            .unwrap()
            .expect("a model endpoint");
        (g.workers.first().is_some_and(|w| w.sessions == 2)).then_some(g)
    })
    .await;
    assert_eq!(g.sessions, 6);
    assert!((g.weights_gb - 14.957).abs() < 0.01, "{g:?}");
    assert!((g.per_session_gb - 1.0).abs() < 0.001, "{g:?}");
    assert!(
        (g.workers[0].used_gb - 16.957).abs() < 0.01,
        "weights + 2 sessions: {g:?}"
    );
    for id in &ids {
        rt.wait("small_llm", id, LONG).await.unwrap();
    }
    let g = rt.gpu_memory("small_llm").unwrap().unwrap();
    assert_eq!(g.workers[0].sessions, 0, "{g:?}");
    assert!(rt.gpu_memory("nap").unwrap().is_none(), "no model(..)");
}
