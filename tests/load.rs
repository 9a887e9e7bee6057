//! 20 000 jobs from concurrent clients over HTTP: every job reaches exactly one terminal state,
//! with its own output; none is lost or run twice. (A correctness test; the speed of the same
//! path is measured by the `runsync` benchmark, not asserted here.)

mod support;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::time::Duration;

use endpoint_sdk::local::{LocalRuntime, RuntimeEvent};
use endpoint_sdk::protocol::JobStatus;
use endpoint_tests::{ECHO_CALLS, echo};
use serde_json::{Value, json};
use support::{TestServer, client};

const JOBS: usize = 20_000;
const CLIENTS: usize = 32;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_job_of_a_20k_load_reaches_exactly_one_terminal_state() {
    let rt = LocalRuntime::builder().endpoint::<echo>().build().unwrap();
    let mut events = rt.events();
    // Count final-state events as they happen (the channel is bounded; drain it concurrently).
    let finished = tokio::spawn(async move {
        let mut finals: HashMap<String, usize> = HashMap::new();
        loop {
            match events.recv().await {
                Ok(RuntimeEvent::JobFinished { job, status, .. }) => {
                    assert_eq!(status, JobStatus::Completed, "job {job}");
                    *finals.entry(job.to_string()).or_default() += 1;
                    if finals.len() == JOBS {
                        return finals;
                    }
                }
                Ok(_) => {}
                Err(e) => panic!("lost runtime events: {e}"),
            }
        }
    });
    let s = TestServer::start(rt.clone(), None).await;
    let calls_before = ECHO_CALLS.load(Ordering::SeqCst);

    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let base = s.base.clone();
        tasks.push(tokio::spawn(async move {
            let http = client();
            let mut seen = Vec::new();
            for i in (c..JOBS).step_by(CLIENTS) {
                let tag = format!("job-{i}");
                // Most jobs through /runsync; every fourth through /run + /status polling.
                let (id, output) = if i % 4 == 0 {
                    let r: Value = http
                        .post(format!("{base}/v2/echo/run"))
                        .json(&json!({"input": {"tag": tag}}))
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    let id = r["id"].as_str().unwrap().to_string();
                    let st = loop {
                        let st: Value = http
                            .get(format!("{base}/v2/echo/status/{id}"))
                            .send()
                            .await
                            .unwrap()
                            .json()
                            .await
                            .unwrap();
                        if st["status"] == "COMPLETED" {
                            break st;
                        }
                        assert!(
                            matches!(st["status"].as_str(), Some("IN_QUEUE" | "IN_PROGRESS")),
                            "{st}"
                        );
                        tokio::time::sleep(Duration::from_millis(2)).await;
                    };
                    (id, st["output"].clone())
                } else {
                    let st: Value = http
                        .post(format!("{base}/v2/echo/runsync"))
                        .json(&json!({"input": {"tag": tag}}))
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    assert_eq!(st["status"], "COMPLETED", "{st}");
                    (st["id"].as_str().unwrap().to_string(), st["output"].clone())
                };
                assert_eq!(
                    output,
                    json!({"tag": tag}),
                    "job {id} got another job's output"
                );
                seen.push(id);
            }
            seen
        }));
    }
    let mut ids = HashSet::new();
    for t in tasks {
        for id in t.await.unwrap() {
            assert!(ids.insert(id.clone()), "job id {id} returned twice");
        }
    }
    assert_eq!(ids.len(), JOBS);
    let finals = tokio::time::timeout(Duration::from_secs(60), finished)
        .await
        .expect("every job's final state was announced")
        .unwrap();
    assert!(
        finals.values().all(|n| *n == 1),
        "a job reached a final state twice"
    );
    assert_eq!(finals.keys().cloned().collect::<HashSet<_>>(), ids);
    assert_eq!(
        ECHO_CALLS.load(Ordering::SeqCst) - calls_before,
        JOBS,
        "the handler ran exactly once per job"
    );
    let h = rt.health("echo").unwrap();
    assert_eq!(
        (
            h.jobs.completed,
            h.jobs.failed,
            h.jobs.in_queue,
            h.jobs.in_progress
        ),
        (JOBS as u64, 0, 0, 0)
    );
    s.stop().await;
}
