//! Runpod's public API and worker job API over real HTTP on loopback: every route, every status
//! transition a client or a worker can drive, auth, and every kind of bad request.

mod support;

use std::time::Duration;

use endpoint_sdk::EndpointDef;
use endpoint_sdk::config::EndpointConfig;
use endpoint_sdk::local::LocalRuntime;
use endpoint_sdk::protocol::{FailureKind, JobFailure};
use endpoint_tests::{count, echo, nap, refuse};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{TestServer, client};

const LONG: Duration = Duration::from_secs(20);

async fn public_server() -> TestServer {
    let rt = LocalRuntime::builder()
        .endpoint::<echo>()
        .endpoint::<nap>()
        .endpoint::<refuse>()
        .endpoint::<count>()
        .build()
        .unwrap();
    TestServer::start(rt, None).await
}

async fn post(url: &str, body: Value) -> (StatusCode, Value) {
    let r = client().post(url).json(&body).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn get(url: &str) -> (StatusCode, Value) {
    let r = client().get(url).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn run_status_and_runsync_answer_with_the_platform_shapes() {
    let s = public_server().await;
    let (code, body) = post(&s.url("/v2/echo/run"), json!({"input": {"x": 1}})).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(body["status"], "IN_QUEUE");
    let id = body["id"].as_str().unwrap().to_string();
    let st = s.runtime.wait("echo", &id, LONG).await.unwrap();
    assert_eq!(st.output, Some(json!({"x": 1})));

    let (code, body) = get(&s.url(&format!("/v2/echo/status/{id}"))).await;
    assert_eq!(code, StatusCode::OK);
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "delayTime",
            "executionTime",
            "id",
            "output",
            "status",
            "workerId"
        ]
    );
    assert_eq!(body["status"], "COMPLETED");

    let (code, body) = post(&s.url("/v2/echo/runsync"), json!({"input": [1, 2]})).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(
        (body["status"].as_str(), &body["output"]),
        (Some("COMPLETED"), &json!([1, 2]))
    );
    assert!(body["id"].as_str().unwrap().starts_with("sync-"));

    // Unfinished when the wait runs out: only id and status, and the client polls.
    let (code, body) = post(&s.url("/v2/nap/runsync?wait=1000"), json!({"input": 3_000})).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(body.as_object().unwrap().len(), 2, "{body}");
    assert!(matches!(
        body["status"].as_str(),
        Some("IN_QUEUE" | "IN_PROGRESS")
    ));
    let id = body["id"].as_str().unwrap();
    let (_, body) = get(&s.url(&format!("/v2/nap/status-sync/{id}?wait=10000"))).await;
    assert_eq!(body["status"], "COMPLETED");
    assert_eq!(body["output"], 3_000);
}

#[tokio::test]
async fn failed_jobs_carry_the_typed_error_as_the_platforms_error_string() {
    let s = public_server().await;
    let (_, body) = post(&s.url("/v2/refuse/runsync"), json!({"input": "no"})).await;
    assert_eq!(body["status"], "FAILED");
    let f = JobFailure::from_wire(body["error"].as_str().unwrap());
    assert_eq!(
        (f.kind, f.message.as_str()),
        (FailureKind::Handler, "refused: no")
    );
    assert_eq!(f.detail, Some(json!("refused: no")));
    assert!(body.get("output").is_none());
}

#[tokio::test]
async fn stream_cancel_retry_purge_and_health() {
    let s = public_server().await;
    let (_, body) = post(&s.url("/v2/count/runsync"), json!({"input": 3})).await;
    let id = body["id"].as_str().unwrap();
    let (code, body) = get(&s.url(&format!("/v2/count/stream/{id}"))).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(
        body["stream"],
        json!([{"output": 0}, {"output": 1}, {"output": 2}])
    );
    assert_eq!(body["status"], "COMPLETED");
    let (_, body) = get(&s.url(&format!("/v2/count/stream/{id}"))).await;
    assert_eq!(body["stream"], json!([]));

    // nap: at most 2 workers. Two long jobs run, the rest wait.
    let mut ids = Vec::new();
    for _ in 0..5 {
        let (_, b) = post(&s.url("/v2/nap/run"), json!({"input": 2_000})).await;
        ids.push(b["id"].as_str().unwrap().to_string());
    }
    let (code, body) = post(&s.url(&format!("/v2/nap/cancel/{}", ids[4])), json!(null)).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(body, json!({"id": ids[4], "status": "CANCELLED"}));
    let (code, body) = post(&s.url("/v2/nap/purge-queue"), json!(null)).await;
    assert_eq!(code, StatusCode::OK);
    assert!(body["removed"].as_u64().unwrap() >= 1, "{body}");
    assert_eq!(body["status"], "completed");

    let (code, body) = get(&s.url("/v2/nap/health")).await;
    assert_eq!(code, StatusCode::OK);
    let keys = |v: &Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    assert_eq!(
        keys(&body["jobs"]),
        ["completed", "failed", "inProgress", "inQueue", "retried"]
    );
    assert_eq!(
        keys(&body["workers"]),
        [
            "idle",
            "initializing",
            "ready",
            "running",
            "throttled",
            "unhealthy"
        ]
    );
    assert_eq!(body["jobs"]["inQueue"], 0);

    // Retry: only failed or timed-out jobs.
    let (_, failed) = post(&s.url("/v2/refuse/runsync"), json!({"input": "x"})).await;
    let fid = failed["id"].as_str().unwrap();
    let (code, body) = post(&s.url(&format!("/v2/refuse/retry/{fid}")), json!(null)).await;
    assert_eq!(
        (code, body),
        (StatusCode::OK, json!({"id": fid, "status": "IN_QUEUE"}))
    );
    let (code, body) = post(&s.url(&format!("/v2/nap/retry/{}", ids[4])), json!(null)).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("only FAILED and TIMED_OUT")
    );
}

#[tokio::test]
async fn bad_requests_get_the_platforms_codes_and_a_message_that_says_what_to_do() {
    let s = public_server().await;
    let raw = |path: &str, body: &'static str| {
        let url = s.url(path);
        async move {
            let r = client().post(url).body(body).send().await.unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        }
    };
    let (code, b) = raw("/v2/echo/run", "{\"input\": ").await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(
        b["error"].as_str().unwrap().contains("not valid JSON"),
        "{b}"
    );
    let (code, b) = raw("/v2/echo/run", "[1, 2]").await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(
        b["error"]
            .as_str()
            .unwrap()
            .contains("must be a JSON object"),
        "{b}"
    );
    let (code, b) = raw("/v2/echo/run", "{\"inptu\": 1}").await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(
        b["error"].as_str().unwrap().contains("has no `input`"),
        "{b}"
    );
    let (code, _) = raw("/v2/echo/runsync", "{\"input\": null}").await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    let (code, b) = raw("/v2/echo/run", "{\"input\": 1, \"policy\": {\"ttl\": 5}}").await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(b["error"].as_str().unwrap().contains("policy.ttl"), "{b}");

    let (code, b) = post(&s.url("/v2/ecko/run"), json!({"input": 1})).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert_eq!(
        b["error"],
        "no endpoint named `ecko`; endpoints: count, echo, nap, refuse"
    );
    let (code, b) = get(&s.url("/v2/echo/status/not-a-job")).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert!(
        b["error"]
            .as_str()
            .unwrap()
            .contains("never submitted, or its result expired")
    );
    let (code, b) = get(&s.url("/v2/echo/statuz/1")).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert!(b["error"].as_str().unwrap().contains("no such route"));

    // Payload limits: 10 MB for /run, 20 MB for /runsync.
    let big = json!({"input": "x".repeat(11 * 1024 * 1024)});
    let (code, b) = post(&s.url("/v2/echo/run"), big.clone()).await;
    assert_eq!(code, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        b["error"].as_str().unwrap().contains("10 MB limit of /run"),
        "{b}"
    );
    let (code, b) = post(&s.url("/v2/echo/runsync"), big).await;
    assert_eq!(code, StatusCode::OK, "11 MB fits /runsync's 20 MB");
    assert_eq!(b["output"].as_str().map(str::len), Some(11 * 1024 * 1024));
    let huge = json!({"input": "x".repeat(21 * 1024 * 1024)});
    let (code, b) = post(&s.url("/v2/echo/runsync"), huge).await;
    assert_eq!(code, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        b["error"]
            .as_str()
            .unwrap()
            .contains("20 MB limit of /runsync"),
        "{b}"
    );
}

#[tokio::test]
async fn the_api_key_is_required_when_set() {
    let rt = LocalRuntime::builder().endpoint::<echo>().build().unwrap();
    let s = TestServer::start(rt, Some("s3cret-SUITE-SECRET")).await;
    let url = s.url("/v2/echo/runsync");
    let body = json!({"input": 1});
    let r = client().post(&url).json(&body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let msg: Value = r.json().await.unwrap();
    assert!(
        msg["error"]
            .as_str()
            .unwrap()
            .contains("Authorization: Bearer"),
        "{msg}"
    );
    let r = client()
        .post(&url)
        .bearer_auth("wrong")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = client()
        .post(&url)
        .bearer_auth("s3cret-SUITE-SECRET")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // The dashboard's view of a job shows its input and output: it needs the key too.
    let done: Value = r.json().await.unwrap();
    let detail = s.url(&format!("/_dev/jobs/echo/{}", done["id"].as_str().unwrap()));
    let r = client().get(&detail).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = client()
        .get(&detail)
        .bearer_auth("s3cret-SUITE-SECRET")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let detail: Value = r.json().await.unwrap();
    assert_eq!(detail["status"]["output"], json!(1), "{detail}");
    // Workers send the raw key, as the Python SDK does.
    let take = s.url("/v2/echo/ping/w1");
    let r = client().get(&take).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = client()
        .get(&take)
        .header("Authorization", "s3cret-SUITE-SECRET")
        .send()
        .await
        .unwrap();
    // Past the key: `echo` is run by the runtime's own workers, which no process may join.
    assert_eq!(r.status(), StatusCode::CONFLICT);
}

/// A runtime with one endpoint that only external workers serve.
async fn job_server(
    f: impl FnOnce(&mut EndpointConfig),
    opts: impl FnOnce(&mut endpoint_sdk::local::RuntimeOptions),
) -> TestServer {
    let mut config = EndpointConfig::new("ext");
    config.workers.max = 3;
    f(&mut config);
    let rt = LocalRuntime::builder()
        .external_endpoint(config)
        .with_options(|o| {
            o.take_wait = Duration::from_millis(300);
            opts(o)
        })
        .build()
        .unwrap();
    TestServer::start(rt, None).await
}

/// Posts a worker result the way the Python SDK does: JSON text as a form body.
async fn done(s: &TestServer, worker: &str, job: &str, body: &str) -> StatusCode {
    client()
        .post(s.url(&format!(
            "/v2/ext/job-done/{worker}/{job}?gpu=test&isStream=false"
        )))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .status()
}

async fn take(s: &TestServer, worker: &str) -> (StatusCode, Value) {
    get(&s.url(&format!(
        "/v2/ext/job-take/{worker}?gpu=test&job_in_progress=0"
    )))
    .await
}

#[tokio::test]
async fn an_external_worker_takes_jobs_and_posts_results() {
    let s = job_server(|_| {}, |_| {}).await;
    let (code, _) = take(&s, "w1").await;
    assert_eq!(
        code,
        StatusCode::NO_CONTENT,
        "an empty queue answers 204 after the long poll"
    );

    let ids: Vec<String> = (0..3)
        .map(|i| s.runtime.submit("ext", json!({"n": i}).into()).unwrap())
        .collect();
    let (code, batch) =
        get(&s.url("/v2/ext/job-take-batch/w1?gpu=test&batch_size=2&job_in_progress=0")).await;
    assert_eq!(code, StatusCode::OK);
    let batch = batch.as_array().unwrap().clone();
    assert_eq!(batch.len(), 2);
    assert_eq!(batch[0], json!({"id": ids[0], "input": {"n": 0}}));
    let (code, single) = take(&s, "w1").await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(single["id"], ids[2].as_str());

    assert_eq!(
        done(&s, "w1", &ids[0], r#"{"output": {"ok": true}}"#).await,
        StatusCode::OK
    );
    assert_eq!(
        done(&s, "w1", &ids[1], r#"{"error": "bad things"}"#).await,
        StatusCode::OK
    );
    // A dict as `error` must not end COMPLETED with no output (a known platform pitfall).
    assert_eq!(
        done(&s, "w1", &ids[2], r#"{"error": {"code": 7}}"#).await,
        StatusCode::OK
    );
    let st = |id: &str| s.runtime.status("ext", id).unwrap();
    assert_eq!(
        (st(&ids[0]).status.as_str(), st(&ids[0]).output),
        ("COMPLETED", Some(json!({"ok": true})))
    );
    assert_eq!(
        (st(&ids[1]).status.as_str(), st(&ids[1]).error.as_deref()),
        ("FAILED", Some("bad things"))
    );
    assert_eq!(
        (st(&ids[2]).status.as_str(), st(&ids[2]).error.as_deref()),
        ("FAILED", Some(r#"{"code":7}"#))
    );
    assert_eq!(st(&ids[0]).worker_id.as_deref(), Some("w1"));

    assert_eq!(
        done(&s, "w1", "no-such-job", r#"{"output": 1}"#).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        done(&s, "w1", &ids[0], "not json").await,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn progress_stream_chunks_and_stop_pod_from_an_external_worker() {
    let s = job_server(|_| {}, |_| {}).await;
    let id = s.runtime.submit("ext", json!(1).into()).unwrap();
    let (_, job) = take(&s, "w2").await;
    assert_eq!(job["id"], id.as_str());
    assert_eq!(
        done(
            &s,
            "w2",
            &id,
            r#"{"status": "IN_PROGRESS", "output": {"pct": 50}}"#
        )
        .await,
        StatusCode::OK
    );
    let (_, st) = get(&s.url(&format!("/v2/ext/status/{id}"))).await;
    assert_eq!(
        (st["status"].as_str(), &st["output"]),
        (Some("IN_PROGRESS"), &json!({"pct": 50}))
    );
    let r = client()
        .post(s.url(&format!(
            "/v2/ext/job-stream/w2/{id}?gpu=test&isStream=false"
        )))
        .body(r#"{"output": "chunk-1"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (_, stream) = get(&s.url(&format!("/v2/ext/stream/{id}"))).await;
    assert_eq!(stream["stream"], json!([{"output": "chunk-1"}]));
    assert_eq!(
        done(&s, "w2", &id, r#"{"output": "final", "stopPod": true}"#).await,
        StatusCode::OK
    );
    assert_eq!(
        s.runtime.status("ext", &id).unwrap().output,
        Some(json!("final"))
    );
    assert_eq!(
        s.runtime.health("ext").unwrap().workers.ready,
        0,
        "stopPod removed the worker"
    );
    // Its heartbeat and job-takes until it exits must not bring it back.
    get(&s.url("/v2/ext/ping/w2?gpu=test")).await;
    s.runtime.submit("ext", json!(2).into()).unwrap();
    let (code, _) = take(&s, "w2").await;
    assert_eq!(
        code,
        StatusCode::NO_CONTENT,
        "a replaced worker takes no job"
    );
    assert_eq!(
        s.runtime.health("ext").unwrap().workers.ready,
        0,
        "nor comes back"
    );
}

#[tokio::test]
async fn job_stop_tells_a_worker_about_cancelled_and_timed_out_jobs_and_late_results_are_ignored() {
    let s = job_server(|c| c.execution_timeout_ms = Some(5_000), |_| {}).await;
    let a = s.runtime.submit("ext", json!("a").into()).unwrap();
    let b = s.runtime.submit("ext", json!("b").into()).unwrap();
    let (code, jobs) = get(&s.url("/v2/ext/job-take-batch/w3?batch_size=2")).await;
    assert_eq!((code, jobs.as_array().unwrap().len()), (StatusCode::OK, 2));
    let (code, _) = get(&s.url("/v2/ext/job-stop/w3?gpu=test")).await;
    assert_eq!(code, StatusCode::NO_CONTENT);
    s.runtime.cancel("ext", &a).unwrap();
    // `b` runs past its 5 s ceiling (the platform's smallest) while the worker keeps pinging.
    let mut stopped = Vec::new();
    for _ in 0..100 {
        get(&s.url("/v2/ext/ping/w3?job_id=b")).await;
        let (code, body) = get(&s.url("/v2/ext/job-stop/w3")).await;
        if code == StatusCode::OK {
            for id in body["jobsToStop"].as_array().unwrap() {
                stopped.push(id.as_str().unwrap().to_string());
            }
        }
        if stopped.len() == 2 {
            break;
        }
    }
    stopped.sort();
    let mut expected = vec![a.clone(), b.clone()];
    expected.sort();
    assert_eq!(stopped, expected);
    assert_eq!(
        s.runtime.status("ext", &b).unwrap().status.as_str(),
        "TIMED_OUT"
    );
    // The worker's late result changes nothing: the first final state wins.
    assert_eq!(
        done(&s, "w3", &a, r#"{"output": "late"}"#).await,
        StatusCode::OK
    );
    let st = s.runtime.status("ext", &a).unwrap();
    assert_eq!((st.status.as_str(), st.output), ("CANCELLED", None));
}

#[tokio::test]
async fn webhooks_receive_the_final_status_object() {
    use axum::routing::post as route_post;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Value>();
    let hook = axum::Router::new().route(
        "/hook",
        route_post(move |axum::Json(v): axum::Json<Value>| {
            let tx = tx.clone();
            async move {
                tx.send(v).unwrap();
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, hook).await });

    let s = public_server().await;
    let (_, body) = post(
        &s.url("/v2/echo/run"),
        json!({"input": "hi", "webhook": hook_url}),
    )
    .await;
    let got = tokio::time::timeout(LONG, rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got["id"], body["id"]);
    assert_eq!(
        (got["status"].as_str(), &got["output"]),
        (Some("COMPLETED"), &json!("hi"))
    );
}

#[tokio::test]
async fn the_server_shuts_down_promptly_with_a_long_poll_pending() {
    let s = job_server(|_| {}, |o| o.take_wait = Duration::from_secs(60)).await;
    let url = s.url("/v2/ext/job-take/w9");
    let poll = tokio::spawn(async move { client().get(url).send().await.map(|r| r.status()) });
    tokio::time::sleep(Duration::from_millis(200)).await;
    s.stop().await;
    let code = tokio::time::timeout(LONG, poll)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(code, StatusCode::NO_CONTENT);
}

#[test]
fn definitions_can_be_adjusted_before_hosting() {
    let mut d = EndpointDef::of::<nap>();
    d.config.execution_timeout_ms = Some(30_000);
    assert_eq!(d.config.execution_timeout_ms, Some(30_000));
    assert_eq!(d.name(), "nap");
}
