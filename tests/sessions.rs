//! Sessions with a real Redis server: a worker process killed mid-session and its task resumed
//! elsewhere without redoing finished steps; concurrent sessions kept apart; TTL expiry; the
//! version tag and the size limit; Redis going away mid-session; affinity in the local runtime.

mod support;

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use endpoint_sdk::EndpointDef;
use endpoint_sdk::client::{CallOptions, HttpRoutes};
use endpoint_sdk::local::{LocalRuntime, RuntimeEvent};
use endpoint_sdk::prelude::*;
use endpoint_sdk::protocol::JobStatus;
use endpoint_sdk::session::{
    RedisStore, Session, SessionError, SessionOptions, Sessions, StoreError,
};
use endpoint_tests::{TALLIES, session_agent, tally};
use serde_json::{Value, json};
use support::redis::RedisServer;
use support::{TestServer, client};

const LONG: Duration = Duration::from_secs(60);

fn redis_sessions(url: &str, options: SessionOptions) -> Sessions {
    Sessions::new(Arc::new(RedisStore::new(url).unwrap()), options)
}

/// Calls recorded by `tally` for one session: (step, n) pairs.
fn tallies(session: &str) -> Vec<String> {
    let prefix = format!("{session}/");
    let mut v: Vec<String> = TALLIES
        .lock()
        .unwrap()
        .iter()
        .filter_map(|t| t.strip_prefix(&prefix).map(str::to_string))
        .collect();
    v.sort();
    v
}

/// A worker process serving `session_agent`, killed when dropped.
struct AgentWorker(Child);

impl AgentWorker {
    fn spawn(base: &str, redis: &str, id: &str) -> AgentWorker {
        let ep = "session_agent";
        let child = Command::new(env!("CARGO_BIN_EXE_test-worker"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env(
                "RUNPOD_WEBHOOK_GET_JOB",
                format!("{base}/v2/{ep}/job-take/$ID"),
            )
            .env(
                "RUNPOD_WEBHOOK_POST_OUTPUT",
                format!("{base}/v2/{ep}/job-done/$RUNPOD_POD_ID/$ID"),
            )
            .env(
                "RUNPOD_WEBHOOK_PING",
                format!("{base}/v2/{ep}/ping/$RUNPOD_POD_ID"),
            )
            .env("RUNPOD_PING_INTERVAL", "500")
            .env("RUNPOD_POD_ID", id)
            .env("ENDPOINT_NAME", ep)
            // Checkpoints go to Redis; calls to the callees go back over HTTP.
            .env("SESSION_STORE_URL", redis)
            .env("RUNPOD_ENDPOINT_BASE_URL", format!("{base}/v2"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        AgentWorker(child)
    }

    fn kill_9(&mut self) {
        let ok = Command::new("kill")
            .args(["-KILL", &self.0.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
        let _ = self.0.wait();
    }
}

impl Drop for AgentWorker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_session_resumes_elsewhere_without_redoing_finished_steps() {
    let redis = RedisServer::start();
    // The orchestrator runs in worker processes; its callee `tally` runs here and counts calls.
    let mut agent = EndpointDef::of::<session_agent>();
    agent.config.execution_timeout_ms = None;
    let rt = LocalRuntime::builder()
        .definition(agent)
        .endpoint::<tally>()
        .served_externally("session_agent")
        .with_options(|o| {
            o.lost_after = Duration::from_millis(1_200);
            o.take_wait = Duration::from_millis(500);
        })
        .build()
        .unwrap();
    let mut events = rt.events();
    let s = TestServer::start(rt.clone(), None).await;
    let http = Client::http(HttpRoutes::new(format!("{}/v2", s.base)));

    let mut victim = AgentWorker::spawn(&s.base, &redis.url, "victim");
    let question = "why do agents need sessions".to_string();
    let job = session_agent::submit(
        &http
            .clone()
            .options(CallOptions::default().session("chaos-1")),
        question.clone(),
    )
    .await
    .unwrap();
    let id = job.id().to_string();
    let job = job.detach();
    // Wait until the finished steps are checkpointed and the job is in its slow `think` step.
    let deadline = Instant::now() + LONG;
    loop {
        let st = rt.status("session_agent", &id).unwrap();
        if st.output == Some(json!("thinking")) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the job never reached its `think` step: {st:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        tallies("chaos-1"),
        ["gather/1", "gather/2", "gather/3", "plan/1"]
    );
    victim.kill_9();

    // Another worker takes the requeued job over and resumes the session from Redis.
    let _rescuer = AgentWorker::spawn(&s.base, &redis.url, "rescuer");
    let st = rt.wait("session_agent", &job, LONG).await.unwrap();
    assert_eq!(st.status, JobStatus::Completed, "{st:?}");
    assert_eq!(st.worker_id.as_deref(), Some("rescuer"));
    assert_eq!(
        tallies("chaos-1"),
        ["gather/1", "gather/2", "gather/3", "plan/1", "write/1"],
        "finished steps were not re-executed"
    );
    let requeued = std::iter::from_fn(|| events.try_recv().ok()).any(
        |e| matches!(e, RuntimeEvent::JobRequeued { worker, .. } if worker.as_ref() == "victim"),
    );
    assert!(requeued, "the killed worker's job went back to the queue");

    // An undisturbed run of the same question gives the same answer.
    let calm = session_agent::call_with(&http, CallOptions::default().session("calm-1"), question)
        .await
        .unwrap();
    assert_eq!(Some(Value::String(calm)), st.output);
    assert_eq!(tallies("calm-1").len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sessions_do_not_see_each_others_state() {
    let redis = RedisServer::start();
    let sessions = redis_sessions(&redis.url, SessionOptions::default());
    let mut tasks = Vec::new();
    for i in 0..8 {
        let sessions = sessions.clone();
        tasks.push(tokio::spawn(async move {
            let id = format!("concurrent-{i}");
            let s = Session::open(&sessions, &id, "v1").await.unwrap();
            for round in 0..10 {
                s.put("owner", &id).await.unwrap();
                let v: u32 = s
                    .step(&format!("step-{round}"), || async move { i * 100 + round })
                    .await
                    .unwrap();
                assert_eq!(v, i * 100 + round);
                tokio::task::yield_now().await;
            }
            let again = Session::open(&sessions, &id, "v1").await.unwrap();
            assert_eq!(again.get::<String>("owner").unwrap(), Some(id.clone()));
            assert_eq!(again.finished_steps().len(), 10);
            for round in 0..10 {
                let v: u32 = again
                    .step(&format!("step-{round}"), || async { u32::MAX })
                    .await
                    .unwrap();
                assert_eq!(v, i * 100 + round, "each session reads its own steps");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_expire_after_their_ttl() {
    let redis = RedisServer::start();
    let sessions = redis_sessions(
        &redis.url,
        SessionOptions {
            ttl: Duration::from_millis(700),
            ..SessionOptions::default()
        },
    );
    let s = Session::open(&sessions, "short-lived", "v1").await.unwrap();
    s.step("a", || async { 1 }).await.unwrap();
    assert_eq!(
        Session::open(&sessions, "short-lived", "v1")
            .await
            .unwrap()
            .resumed_steps(),
        ["a"]
    );
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let fresh = Session::open(&sessions, "short-lived", "v1").await.unwrap();
    assert!(fresh.resumed_steps().is_empty(), "the TTL deleted it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incompatible_build_and_an_oversize_session_are_refused() {
    let redis = RedisServer::start();
    let sessions = redis_sessions(
        &redis.url,
        SessionOptions {
            max_bytes: 1_000,
            ..SessionOptions::default()
        },
    );
    let s = Session::open(&sessions, "versioned", "agent@1.0.0")
        .await
        .unwrap();
    s.put("ctx", &"x".repeat(900)).await.unwrap();
    let err = s.put("more", &"y".repeat(200)).await.unwrap_err();
    assert!(
        matches!(
            err,
            SessionError::Store(StoreError::TooLarge { limit: 1_000, .. })
        ),
        "{err}"
    );
    let err = Session::open(&sessions, "versioned", "agent@2.0.0")
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            SessionError::Store(StoreError::VersionMismatch { .. })
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("stored by build `agent@1.0.0`, not `agent@2.0.0`"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_going_away_mid_session_gives_a_clear_error_and_its_return_is_picked_up() {
    let mut redis = RedisServer::start();
    let sessions = redis_sessions(&redis.url, SessionOptions::default());
    let s = Session::open(&sessions, "fragile", "v1").await.unwrap();
    s.step("first", || async { 1 }).await.unwrap();
    redis.kill();
    let started = Instant::now();
    let err = s.step("second", || async { 2 }).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the failure is reported, not hung"
    );
    let msg = err.to_string();
    assert!(
        msg.contains(&redis.url) && msg.contains("Redis is unreachable"),
        "{msg}"
    );
    redis.restart();
    // The same store reconnects by itself (this server starts empty: no persistence).
    let mut reopened = None;
    for _ in 0..50 {
        if let Ok(s) = Session::open(&sessions, "fragile", "v1").await {
            reopened = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(reopened.is_some(), "the store reconnected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_of_a_session_prefer_the_worker_that_holds_it_until_it_is_lost() {
    let mut config = endpoint_sdk::config::EndpointConfig::new("stateful");
    config.workers.max = 2;
    let rt = LocalRuntime::builder()
        .external_endpoint(config)
        .with_options(|o| {
            o.take_wait = Duration::from_millis(200);
            o.lost_after = Duration::from_millis(800);
            o.affinity_wait = Duration::from_secs(30);
        })
        .build()
        .unwrap();
    let s = TestServer::start(rt.clone(), None).await;
    let http = client();
    let take = |worker: &'static str| {
        let url = format!("{}/v2/stateful/job-take/{worker}", s.base);
        let http = http.clone();
        async move {
            let r = http.get(url).send().await.unwrap();
            if r.status().as_u16() == 200 {
                Some(r.json::<Value>().await.unwrap())
            } else {
                None
            }
        }
    };
    let done = |worker: &'static str, id: String| {
        let url = format!("{}/v2/stateful/job-done/{worker}/{id}", s.base);
        let http = http.clone();
        async move {
            http.post(url)
                .body(r#"{"output": "ok"}"#)
                .send()
                .await
                .unwrap();
        }
    };
    let c = Client::http(HttpRoutes::new(format!("{}/v2", s.base)));
    let submit = |n: u32| {
        let c = c.clone();
        async move {
            let opts = CallOptions::default().session("s-42");
            let req = endpoint_sdk::protocol::RunRequest {
                input: endpoint_sdk::protocol::envelope::wrap(
                    opts.session.as_deref().unwrap(),
                    json!({"n": n}),
                ),
                ..Default::default()
            };
            c.transport().submit("stateful", req).await.unwrap()
        }
    };
    // w1 runs the session's first job and so holds the session.
    let first = submit(1).await;
    let job = take("w1").await.expect("a job");
    assert_eq!(job["id"], json!(first));
    assert_eq!(
        job["input"],
        json!({"$session": "s-42", "$input": {"n": 1}}),
        "the session travels in the input"
    );
    done("w1", first).await;
    // The next job of the session is not given to w2 while w1 is alive...
    let second = submit(2).await;
    assert!(
        take("w2").await.is_none(),
        "w2 must not take a job of w1's session"
    );
    let job = take("w1").await.expect("w1 takes its session's job");
    assert_eq!(job["id"], json!(second));
    done("w1", second).await;
    // ...but once w1 is lost, w2 takes the session over.
    let third = submit(3).await;
    let deadline = Instant::now() + LONG;
    let job = loop {
        // w2 keeps polling (and so stays alive); w1 is silent.
        if let Some(j) = take("w2").await {
            break j;
        }
        assert!(Instant::now() < deadline, "w2 never took the session over");
    };
    assert_eq!(job["id"], json!(third));
}
