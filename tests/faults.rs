//! Typed calls through a fault-injecting proxy: a transient failure while waiting re-attaches to
//! the same job (the child runs once), a submit whose answer is lost is not sent again, a 404
//! just after a submit is waited out, and a caller dropped during the `/runsync` exchange has its
//! job cancelled once the answer names it. Real HTTP on loopback: client → proxy → `app dev`'s
//! server → local runtime.

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use endpoint_sdk::client::HttpRoutes;
use endpoint_sdk::local::LocalRuntime;
use endpoint_sdk::prelude::*;
use support::TestServer;
use support::proxy::{Fault, FaultProxy, Plan};

/// How many times each tag's job ran.
static RUNS: Mutex<Option<HashMap<String, usize>>> = Mutex::new(None);

fn runs(tag: &str) -> usize {
    RUNS.lock()
        .unwrap()
        .as_ref()
        .and_then(|m| m.get(tag).copied())
        .unwrap_or(0)
}

/// Counts its executions, then takes long enough for the caller to be mid-wait: past the 1 s
/// of the `/runsync` exchange, so the call waits on the job by its id.
#[endpoint(cpu = "cpu3c-2-4", workers = (0, 4), concurrency = 8, execution_timeout_ms = 30_000)]
async fn counted(tag: String) -> String {
    *RUNS
        .lock()
        .unwrap()
        .get_or_insert_with(HashMap::new)
        .entry(tag.clone())
        .or_default() += 1;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    format!("done: {tag}")
}

/// A server for `counted`, a proxy in front of it with `plan`, and a client of the proxy.
async fn through_proxy(plan: Plan) -> (TestServer, FaultProxy, Client) {
    let rt = LocalRuntime::builder()
        .endpoint::<counted>()
        .build()
        .unwrap();
    let server = TestServer::start(rt, None).await;
    let proxy = FaultProxy::start(&server.base, plan).await;
    let client = Client::http(HttpRoutes::new(format!("{}/v2", proxy.base)));
    (server, proxy, client)
}

fn on(kind: &'static str, nth: usize, fault: Fault) -> Plan {
    Arc::new(move |k: &str, n| (k == kind && n == nth).then_some(fault))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_502_on_the_first_status_read_does_not_run_the_child_twice() {
    let (_server, proxy, c) = through_proxy(on("status-sync", 0, Fault::Status(502))).await;
    let out = counted::call(&c, "bad-gateway".into()).await.unwrap();
    assert_eq!(out, "done: bad-gateway");
    assert_eq!(runs("bad-gateway"), 1, "the child ran exactly once");
    assert_eq!(
        proxy.count("runsync"),
        1,
        "submitted once: {:?}",
        proxy.seen
    );
    assert_eq!(
        proxy.count("cancel"),
        0,
        "never cancelled: {:?}",
        proxy.seen
    );
    assert!(
        proxy.count("status-sync") >= 2,
        "the read was retried: {:?}",
        proxy.seen
    );
    // And counted in the process's metrics.
    let page = endpoint_sdk::metrics::global().render();
    assert!(
        page.contains(r#"endpoint_call_retries_total{callee="counted"}"#),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_poll_cut_mid_way_reattaches_to_the_same_job() {
    let cut = Fault::Cut(Duration::from_millis(100));
    let (_server, proxy, c) = through_proxy(on("status-sync", 0, cut)).await;
    let out = counted::call(&c, "cut".into()).await.unwrap();
    assert_eq!(out, "done: cut");
    assert_eq!(runs("cut"), 1, "the child ran exactly once");
    assert_eq!(
        proxy.count("runsync"),
        1,
        "submitted once: {:?}",
        proxy.seen
    );
    assert_eq!(
        proxy.count("cancel"),
        0,
        "never cancelled: {:?}",
        proxy.seen
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submit_whose_answer_is_lost_is_not_sent_again() {
    let (_server, proxy, c) = through_proxy(on("runsync", 0, Fault::Status(502))).await;
    let e = counted::call(&c, "lost-answer".into()).await.unwrap_err();
    match &e {
        CallError::Transport {
            job_id, message, ..
        } => {
            assert_eq!(*job_id, None);
            assert!(message.contains("so it was not sent again"), "{e}");
        }
        other => panic!("expected a transport error, got {other:?}"),
    }
    assert_eq!(
        proxy.count("runsync"),
        1,
        "not submitted again: {:?}",
        proxy.seen
    );
    // The job the platform did create runs, once.
    support::until("the job ran", Duration::from_secs(30), || {
        (runs("lost-answer") == 1).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(runs("lost-answer"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_404_just_after_the_submit_is_waited_out() {
    // The job has not reached the status routes yet: both answer 404 once.
    let plan: Plan = Arc::new(|k: &str, n| {
        (n == 0 && (k == "status-sync" || k == "status")).then_some(Fault::Refuse(404))
    });
    let (_server, proxy, c) = through_proxy(plan).await;
    let out = counted::call(&c, "propagating".into()).await.unwrap();
    assert_eq!(out, "done: propagating");
    assert_eq!(runs("propagating"), 1);
    assert_eq!(proxy.count("runsync"), 1, "{:?}", proxy.seen);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_dropped_during_the_runsync_exchange_has_its_job_cancelled_when_the_answer_comes() {
    let (_server, proxy, c) = through_proxy(Arc::new(|_: &str, _| None)).await;
    let call = counted::call(&c, "dropped".into());
    assert!(
        tokio::time::timeout(Duration::from_millis(300), call)
            .await
            .is_err()
    );
    // The exchange goes on without its caller; its answer (the job still running) names the
    // job, which is then cancelled.
    support::until("the job was cancelled", Duration::from_secs(30), || {
        (proxy.count("cancel") == 1).then_some(())
    })
    .await;
    assert_eq!(runs("dropped"), 1);
    assert_eq!(proxy.count("runsync"), 1, "{:?}", proxy.seen);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submit_dropped_while_its_run_is_in_flight_has_its_job_cancelled() {
    // The /run takes a second on its way: the caller gives up before the answer names the job.
    let slow = Fault::Delay(Duration::from_millis(1_000));
    let (_server, proxy, c) = through_proxy(on("run", 0, slow)).await;
    let submit = counted::submit(&c, "dropped-submit".into());
    assert!(
        tokio::time::timeout(Duration::from_millis(200), submit)
            .await
            .is_err()
    );
    support::until("the job was cancelled", Duration::from_secs(30), || {
        (proxy.count("cancel") == 1).then_some(())
    })
    .await;
    assert_eq!(proxy.count("run"), 1, "{:?}", proxy.seen);
}
