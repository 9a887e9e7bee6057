//! Interop with the official Python worker SDK (`runpod` 1.12 from PyPI): our local runtime and
//! server on 127.0.0.1, the Python worker attached to it through the platform's
//! `RUNPOD_WEBHOOK_*` variables, and jobs sent through our public API over HTTP (and through our
//! typed client). Each test starts one Python worker (its handler is in `tests/python/`) and runs
//! several cases through it.
//!
//! The Python is `$RUNPOD_PYTHON`, else `target/python-venv/bin/python`; when neither can import
//! `runpod`, the first test creates `target/python-venv` (`python3 -m venv`, then
//! `pip install 'runpod==1.12.*'`) under a file lock, and fails with instructions if it cannot.

mod support;

use std::future::Future;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use endpoint_sdk::EndpointDef;
use endpoint_sdk::client::{CallError, Client, HttpRoutes};
use endpoint_sdk::config::EndpointConfig;
use endpoint_sdk::local::{LocalRuntime, RuntimeOptions};
use endpoint_sdk::prelude::*;
use endpoint_sdk::protocol::{FailureKind, JobFailure};
use endpoint_sdk::server::Server;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use support::python::python;

/// The longest one test may take, Python start-up included.
const TEST_BUDGET: Duration = Duration::from_secs(90);
/// The longest one job may take to finish once submitted (the worker may still be starting).
const JOB_WAIT: Duration = Duration::from_secs(30);

/// The official Python worker running one handler of `tests/python/`, attached to our server.
/// Killed with its process group (it forks a heartbeat process) when dropped.
struct PyWorker {
    child: Mutex<Child>,
    pod: String,
    log: PathBuf,
    home: PathBuf,
}

impl PyWorker {
    fn spawn(handler: &str, base: &str, endpoint: &str, pod: &str) -> PyWorker {
        let python = python();
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("python")
            .join(handler);
        let tag = format!("python-interop-{}-{pod}", std::process::id());
        let log = support::log_path(&tag);
        // A fresh HOME: a ~/.runpod/config.toml there would override the worker's API key.
        let home = std::env::temp_dir().join(format!("{tag}-home"));
        std::fs::create_dir_all(&home).unwrap();
        let out = std::fs::File::create(&log).unwrap();
        let v2 = format!("{base}/v2/{endpoint}");
        let child = Command::new(&python)
            .arg(&script)
            .current_dir(&home)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &home)
            .env("LANG", "C.UTF-8")
            .env("PYTHONUNBUFFERED", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env(
                "RUNPOD_WEBHOOK_GET_JOB",
                format!("{v2}/job-take/$ID?gpu=test"),
            )
            .env(
                "RUNPOD_WEBHOOK_POST_OUTPUT",
                format!("{v2}/job-done/$RUNPOD_POD_ID/$ID?gpu=test"),
            )
            .env(
                "RUNPOD_WEBHOOK_POST_STREAM",
                format!("{v2}/job-stream/$RUNPOD_POD_ID/$ID?gpu=test"),
            )
            .env(
                "RUNPOD_WEBHOOK_PING",
                format!("{v2}/ping/$RUNPOD_POD_ID?gpu=test"),
            )
            .env("RUNPOD_PING_INTERVAL", "1000")
            .env("RUNPOD_AI_API_KEY", WORKER_KEY)
            .env("RUNPOD_POD_ID", pod)
            // The fitness checks include a TCP connect to 8.8.8.8; stay on loopback.
            .env("RUNPOD_SKIP_AUTO_SYSTEM_CHECKS", "true")
            .stdout(Stdio::from(out.try_clone().unwrap()))
            .stderr(Stdio::from(out))
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", python.display()));
        PyWorker {
            child: Mutex::new(child),
            pod: pod.to_string(),
            log,
            home,
        }
    }

    /// The worker's output so far (for failure messages).
    fn log(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(60).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        format!(
            "--- Python worker {} log (tail) ---\n{}",
            self.pod,
            tail.join("\n")
        )
    }

    /// Its exit status, if it has exited.
    fn exited(&self) -> Option<ExitStatus> {
        self.child.lock().unwrap().try_wait().unwrap()
    }

    /// Waits up to `within` for the process to exit.
    async fn wait_exit(&self, within: Duration) -> Option<ExitStatus> {
        let until = Instant::now() + within;
        while Instant::now() < until {
            if let Some(status) = self.exited() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        None
    }

    /// Runs `body`, failing at once (with the worker's log) if the worker exits meanwhile.
    async fn alive_while<F: Future<Output = ()>>(&self, body: F) {
        let died = async {
            loop {
                if let Some(status) = self.exited() {
                    return status;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        };
        tokio::select! {
            () = body => {}
            status = died => panic!("the Python worker exited early ({status})\n{}", self.log()),
        }
    }
}

impl Drop for PyWorker {
    fn drop(&mut self) {
        // The whole group: the worker and the heartbeat process it forked.
        let child = self.child.get_mut().unwrap_or_else(|e| e.into_inner());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = child.kill();
        let _ = child.wait();
        if std::thread::panicking() {
            eprintln!("{}", self.log());
        }
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

// ------------------------------------------------------------------------------------ server

/// The key the Python worker sends (raw, as the platform's workers do).
const WORKER_KEY: &str = "test-ai-key-SUITE-SECRET";

/// A request the server answered.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    /// Path and query.
    uri: String,
    status: u16,
}

/// Our server (the real routes of `Server::router()`, with a layer recording every request) in
/// front of `runtime`, on a free loopback port; stops when dropped.
struct Api {
    base: String,
    http: reqwest::Client,
    key: Option<String>,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

async fn record(
    axum::extract::State(seen): axum::extract::State<Arc<Mutex<Vec<Seen>>>>,
    req: Request,
    next: Next,
) -> Response {
    let method = req.method().to_string();
    let uri = req.uri().to_string();
    let resp = next.run(req).await;
    seen.lock().unwrap().push(Seen {
        method,
        uri,
        status: resp.status().as_u16(),
    });
    resp
}

impl Api {
    async fn start(runtime: LocalRuntime, key: Option<&str>) -> Api {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let router = Server::new(runtime)
            .api_key(key.map(str::to_string))
            .router()
            .layer(axum::middleware::from_fn_with_state(seen.clone(), record));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        // reqwest is built without a default TLS crypto provider (see the workspace manifest).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        Api {
            base,
            http,
            key: key.map(str::to_string),
            seen,
            task,
        }
    }

    fn url(&self, endpoint: &str, route: &str) -> String {
        format!("{}/v2/{endpoint}/{route}", self.base)
    }

    fn auth(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.key {
            Some(k) => req.bearer_auth(k),
            None => req,
        }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Value {
        let resp = self.auth(req).send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        assert!(status.is_success(), "{status}: {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }

    async fn runsync(&self, endpoint: &str, input: Value) -> Value {
        let url = format!(
            "{}?wait={}",
            self.url(endpoint, "runsync"),
            JOB_WAIT.as_millis()
        );
        self.send(self.http.post(url).json(&json!({ "input": input })))
            .await
    }

    async fn run(&self, endpoint: &str, input: Value) -> String {
        let v = self
            .send(
                self.http
                    .post(self.url(endpoint, "run"))
                    .json(&json!({ "input": input })),
            )
            .await;
        assert_eq!(v["status"], "IN_QUEUE", "{v}");
        v["id"].as_str().expect("/run answers an id").to_string()
    }

    async fn status(&self, endpoint: &str, id: &str) -> Value {
        self.send(self.http.get(self.url(endpoint, &format!("status/{id}"))))
            .await
    }

    async fn stream(&self, endpoint: &str, id: &str) -> Value {
        self.send(self.http.get(self.url(endpoint, &format!("stream/{id}"))))
            .await
    }

    async fn cancel(&self, endpoint: &str, id: &str) -> Value {
        self.send(self.http.post(self.url(endpoint, &format!("cancel/{id}"))))
            .await
    }

    async fn health(&self, endpoint: &str) -> Value {
        self.send(self.http.get(self.url(endpoint, "health"))).await
    }

    /// Polls `/status` until the job is final.
    async fn wait_final(&self, endpoint: &str, id: &str) -> Value {
        let until = Instant::now() + JOB_WAIT;
        loop {
            let st = self.status(endpoint, id).await;
            if is_final(&st) {
                return st;
            }
            assert!(Instant::now() < until, "job {id} did not finish: {st}");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Polls `/status` until the job is `IN_PROGRESS`.
    async fn wait_running(&self, endpoint: &str, id: &str) -> Value {
        let until = Instant::now() + JOB_WAIT;
        loop {
            let st = self.status(endpoint, id).await;
            if st["status"] == "IN_PROGRESS" {
                return st;
            }
            assert!(
                Instant::now() < until && !is_final(&st),
                "job {id} never ran: {st}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// The requests answered so far.
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// A typed client over HTTP to this server.
    fn client(&self) -> Client {
        Client::http(HttpRoutes::new(format!("{}/v2", self.base)).api_key(self.key.clone()))
    }
}

impl Drop for Api {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn is_final(st: &Value) -> bool {
    matches!(
        st["status"].as_str(),
        Some("COMPLETED" | "FAILED" | "CANCELLED" | "TIMED_OUT")
    )
}

/// A runtime hosting `endpoints` with no simulated workers (only external ones serve them);
/// job-take long polls are held `take_wait` (the Python worker's exit waits for them).
fn external_runtime(endpoints: &[&str], take_wait: Duration) -> LocalRuntime {
    let mut b = LocalRuntime::builder().with_options(|o: &mut RuntimeOptions| {
        o.take_wait = take_wait;
    });
    for name in endpoints {
        b = b.external_endpoint(EndpointConfig::new(name.to_string()));
    }
    b.build().unwrap()
}

/// Runs a test body within [`TEST_BUDGET`], so nothing can hang.
async fn within<F: Future<Output = ()>>(body: F) {
    tokio::time::timeout(TEST_BUDGET, body)
        .await
        .expect("the test ran past its time budget");
}

fn now_epoch_s() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

// ------------------------------------------------------------------------------------ typed

/// A typed input and output, for our typed client against the Python echo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    pub text: String,
    pub tags: Vec<String>,
    pub n: u32,
}

/// The typed declaration of the endpoint the Python echo worker serves. This runtime runs no
/// simulated worker for it (`served_externally`), so this body never runs here: every result
/// below comes from Python (each status carries the Python worker's id).
#[endpoint(name = "py-echo", cpu = "cpu3c-2-4", workers = (0, 1), execution_timeout_ms = 30_000, plain_input)]
async fn py_echo(note: Note) -> Note {
    note
}

/// What `fail.py` takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailRequest {
    pub mode: String,
    pub message: String,
}

/// The typed declaration of the endpoint `fail.py` serves (externally, as `py_echo`).
#[endpoint(name = "py-fail", cpu = "cpu3c-2-4", workers = (0, 1), execution_timeout_ms = 30_000, plain_input)]
async fn py_fail(req: FailRequest) -> Result<Value, String> {
    Err(req.message)
}

fn typed_runtime(def: EndpointDef) -> LocalRuntime {
    let name = def.name().to_string();
    LocalRuntime::builder()
        .definition(def)
        .served_externally(name)
        .with_options(|o| o.take_wait = Duration::from_secs(2))
        .build()
        .unwrap()
}

// ------------------------------------------------------------------------------------ tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_outputs_arrive_intact_through_runsync_run_status_and_the_typed_client() {
    within(async {
        let ep = "py-echo";
        // The server requires a key: our clients send it as a bearer token, the Python worker
        // sends its RUNPOD_AI_API_KEY raw (as the platform's workers do); both are accepted.
        let api = Api::start(
            typed_runtime(EndpointDef::of::<py_echo>()),
            Some(WORKER_KEY),
        )
        .await;
        let worker = PyWorker::spawn("echo.py", &api.base, ep, "py-echo-1");
        worker.alive_while(async {

        // /runsync: outputs intact, whatever their shape.
        let inputs = [
            json!({"prompt": "hi"}),
            json!({"text": "ünïcødé ✓ 😀 \"quotes\" \\ back", "n": [1, 2.5, null, true, -7]}),
            json!({"output": {"x": 1}}),
            json!({"nested": {"a": {"b": [[], {}, [1, [2, [3]]]]}}, "big": "x".repeat(200_000)}),
            json!([1, "two", {"three": 3}]),
            json!("a plain string"),
            json!(12345),
        ];
        for input in &inputs {
            let st = api.runsync(ep, input.clone()).await;
            assert_eq!(st["status"], "COMPLETED", "{st}\n{}", worker.log());
            assert_eq!(&st["output"], input);
            assert_eq!(st["workerId"], "py-echo-1");
            assert!(st["id"].as_str().unwrap().starts_with("sync-"), "{st}");
            assert!(st["delayTime"].is_u64() && st["executionTime"].is_u64(), "{st}");
        }

        // /run, then /status: several jobs in the queue at once, each answered with its input.
        let mut ids = Vec::new();
        for i in 0..12 {
            ids.push((i, api.run(ep, json!({"i": i, "s": format!("job {i}")})).await));
        }
        for (i, id) in &ids {
            let st = api.wait_final(ep, id).await;
            assert_eq!(st["status"], "COMPLETED", "{st}");
            assert_eq!(st["output"], json!({"i": i, "s": format!("job {i}")}));
            assert_eq!(st["id"], json!(id));
        }

        // /health counts the Python worker and the jobs.
        let h = api.health(ep).await;
        assert_eq!(h["jobs"]["completed"], json!(inputs.len() + ids.len()), "{h}");
        assert_eq!(h["jobs"]["failed"], 0, "{h}");
        assert_eq!(h["workers"]["ready"], 1, "{h}");

        // The Python worker's requests, as our server answered them.
        let seen = api.seen();
        for route in [
            "/job-take-batch/py-echo-1?",
            "/job-done/py-echo-1/",
            "/ping/py-echo-1?",
        ] {
            assert!(
                seen.iter().any(|s| s.uri.contains(route) && s.status < 300),
                "no successful {route} request: {seen:?}"
            );
        }
        assert!(
            !seen.iter().any(|s| s.status == 401),
            "a request was refused for its key: {seen:?}"
        );

        // Our typed client, over HTTP, against the endpoint Python serves.
        let client = api.client();
        let note = Note {
            text: "typed ✓".into(),
            tags: vec!["a".into(), "b".into()],
            n: 7,
        };
        let back = py_echo::call(&client, note.clone())
            .await
            .unwrap_or_else(|e| panic!("typed call failed: {e:?}\n{}", worker.log()));
        assert_eq!(back, note);
        let notes: Vec<Note> = (0..20)
            .map(|n| Note {
                text: format!("note {n}"),
                tags: vec![n.to_string()],
                n,
            })
            .collect();
        let results = py_echo::fan_out(&client, notes.clone()).await;
        let results: Vec<Note> = results
            .into_iter()
            .map(|r| r.unwrap_or_else(|e| panic!("fan-out item failed: {e:?}")))
            .collect();
        assert_eq!(results, notes, "results in input order, each intact");
        let calls = client.trace().records();
        assert_eq!(calls.len(), 21);
        assert!(
            calls
                .iter()
                .all(|c| c.worker_id.as_deref() == Some("py-echo-1")),
            "every typed call was served by the Python worker: {calls:?}"
        );
        })
        .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_failures_end_failed_with_the_python_error_and_the_worker_goes_on() {
    within(async {
        let ep = "py-fail";
        let api = Api::start(typed_runtime(EndpointDef::of::<py_fail>()), None).await;
        let worker = PyWorker::spawn("fail.py", &api.base, ep, "py-fail-1");
        worker
            .alive_while(async {
                // A handler that raises: FAILED, the error is the SDK's JSON report of the exception.
                let message = "boom from Python: ünïcødé ✓";
                let st = api
                    .runsync(ep, json!({"mode": "raise", "message": message}))
                    .await;
                assert_eq!(st["status"], "FAILED", "{st}\n{}", worker.log());
                assert_eq!(st["workerId"], "py-fail-1");
                let error = st["error"].as_str().expect("the error is a string");
                let report: Value = serde_json::from_str(error)
                    .unwrap_or_else(|e| panic!("the raise report is JSON text ({e}): {error}"));
                assert_eq!(report["error_type"], "<class 'ValueError'>", "{report}");
                assert_eq!(report["error_message"], message, "{report}");
                assert!(
                    report["error_traceback"]
                        .as_str()
                        .is_some_and(|t| t.contains("fail.py")),
                    "{report}"
                );
                assert_eq!(report["worker_id"], "py-fail-1", "{report}");
                // Our SDK reads the Python report as a failure with the Python message.
                let failure = JobFailure::from_wire(error);
                assert_eq!(
                    (failure.kind, failure.message.as_str()),
                    (FailureKind::Other, message)
                );

                // A handler returning {"error": ...}: FAILED with that error.
                let st = api
                    .runsync(ep, json!({"mode": "error", "message": "only an error"}))
                    .await;
                assert_eq!(
                    (&st["status"], &st["error"]),
                    (&json!("FAILED"), &json!("only an error")),
                    "{st}"
                );

                // ... also when the rest of the dict would be an output.
                let st = api
                    .runsync(
                        ep,
                        json!({"mode": "error_partial", "message": "something went wrong"}),
                    )
                    .await;
                assert_eq!(
                    (&st["status"], &st["error"]),
                    (&json!("FAILED"), &json!("something went wrong")),
                    "{st}"
                );

                // A dict-valued error (the SDK sends it as a JSON object): FAILED, its content kept.
                let st = api
                    .runsync(ep, json!({"mode": "error_dict", "message": "structured"}))
                    .await;
                assert_eq!(st["status"], "FAILED", "{st}");
                let error: Value = serde_json::from_str(st["error"].as_str().unwrap()).unwrap();
                assert_eq!(error, json!({"code": 42, "msg": "structured"}));

                // The worker goes on after failures.
                let st = api.runsync(ep, json!({"mode": "fine"})).await;
                assert_eq!(
                    (&st["status"], &st["output"]),
                    (&json!("COMPLETED"), &json!({"ok": true})),
                    "{st}"
                );
                let h = api.health(ep).await;
                assert_eq!(
                    (&h["jobs"]["failed"], &h["jobs"]["completed"]),
                    (&json!(4), &json!(1)),
                    "{h}"
                );

                // Our typed client gets the Python error message.
                let client = api.client();
                let err = py_fail::call(
                    &client,
                    FailRequest {
                        mode: "raise".into(),
                        message: "typed boom".into(),
                    },
                )
                .await
                .expect_err("the Python handler raised");
                match err {
                    CallError::Failed { kind, message, .. } => {
                        assert_eq!((kind, message.as_str()), (FailureKind::Other, "typed boom"))
                    }
                    other => panic!("expected CallError::Failed, got {other:?}"),
                }
                let err = py_fail::call(
                    &client,
                    FailRequest {
                        mode: "error".into(),
                        message: "plain error text".into(),
                    },
                )
                .await
                .expect_err("the Python handler returned an error");
                match err {
                    CallError::Failed { message, .. } => assert_eq!(message, "plain error text"),
                    other => panic!("expected CallError::Failed, got {other:?}"),
                }
            })
            .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generator_handler_streams_its_chunks_through_stream() {
    within(async {
        let ep = "py-gen";
        let api = Api::start(external_runtime(&[ep], Duration::from_secs(2)), None).await;
        let worker = PyWorker::spawn("generator.py", &api.base, ep, "py-gen-1");
        worker
            .alive_while(async {
                let n = 5;
                let id = api.run(ep, json!({"n": n, "pause": 0.3})).await;
                let mut chunks = Vec::new();
                let mut seen_while_running = 0;
                let until = Instant::now() + JOB_WAIT;
                let final_status = loop {
                    let s = api.stream(ep, &id).await;
                    assert_eq!(s["id"], json!(id), "{s}");
                    let batch = s["stream"].as_array().expect("a stream array").clone();
                    if s["status"] == "IN_PROGRESS" {
                        seen_while_running += batch.len();
                    }
                    for c in batch {
                        chunks.push(c["output"].clone());
                    }
                    if is_final(&s) {
                        break s["status"].clone();
                    }
                    assert!(
                        Instant::now() < until,
                        "the stream never ended\n{}",
                        worker.log()
                    );
                    tokio::time::sleep(Duration::from_millis(50)).await;
                };
                let expected: Vec<Value> = (0..n)
                    .map(|i| json!({"i": i, "text": format!("part-{i}")}))
                    .collect();
                assert_eq!(final_status, "COMPLETED");
                assert_eq!(chunks, expected, "every chunk once, in order");
                assert!(
                    seen_while_running >= 2,
                    "chunks are visible while the job runs (saw {seen_while_running})"
                );
                // Read once: a later /stream has nothing new.
                let again = api.stream(ep, &id).await;
                assert_eq!(again["stream"], json!([]), "{again}");
                // return_aggregate_stream: the result is the list of chunks.
                let st = api.status(ep, &id).await;
                assert_eq!(st["output"], Value::Array(expected), "{st}");
                // Each chunk went to job-stream, the result to job-done with isStream=true.
                let seen = api.seen();
                let posts = seen
                    .iter()
                    .filter(|s| s.uri.contains(&format!("/job-stream/py-gen-1/{id}")))
                    .count();
                assert_eq!(posts, n, "{seen:?}");
                assert!(
                    seen.iter()
                        .any(|s| s.uri.contains(&format!("/job-done/py-gen-1/{id}"))
                            && s.uri.contains("isStream=true")
                            && s.status == 200),
                    "{seen:?}"
                );

                // A generator that raises mid-stream: FAILED with the message; the chunk before it
                // was streamed.
                let id = api
                    .run(ep, json!({"n": 3, "mode": "raise", "pause": 0.0}))
                    .await;
                let st = api.wait_final(ep, &id).await;
                assert_eq!(st["status"], "FAILED", "{st}");
                assert!(
                    st["error"]
                        .as_str()
                        .is_some_and(|e| e.contains("generator failed mid-stream")),
                    "{st}"
                );
                let s = api.stream(ep, &id).await;
                assert_eq!(
                    s["stream"],
                    json!([{"output": {"i": 0, "text": "part-0"}}]),
                    "{s}"
                );

                // A chunk carrying {"error": ...} ends the job FAILED with that error.
                let st = api
                    .runsync(ep, json!({"n": 3, "mode": "yield_error", "pause": 0.0}))
                    .await;
                assert_eq!(
                    (&st["status"], &st["error"]),
                    (&json!("FAILED"), &json!("chunk-level error")),
                    "{st}"
                );
            })
            .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_updates_show_in_status_and_never_overwrite_the_result() {
    within(async {
        let ep = "py-progress";
        let api = Api::start(external_runtime(&[ep], Duration::from_secs(2)), None).await;
        let worker = PyWorker::spawn("progress.py", &api.base, ep, "py-progress-1");
        worker
            .alive_while(async {
                let id = api.run(ep, json!({"pause": 0.8})).await;
                let mut updates: Vec<Value> = Vec::new();
                let until = Instant::now() + JOB_WAIT;
                let st = loop {
                    let st = api.status(ep, &id).await;
                    if is_final(&st) {
                        break st;
                    }
                    if st["status"] == "IN_PROGRESS"
                        && let Some(out) = st.get("output")
                        && updates.last() != Some(out)
                    {
                        updates.push(out.clone());
                    }
                    assert!(
                        Instant::now() < until,
                        "job {id} did not finish\n{}",
                        worker.log()
                    );
                    tokio::time::sleep(Duration::from_millis(20)).await;
                };
                assert_eq!(st["status"], "COMPLETED", "{st}");
                assert_eq!(st["output"], json!({"done": true}), "{st}");
                assert!(
                    updates.starts_with(&[json!("step 1/2"), json!({"pct": 50})]),
                    "each update shows in /status while the job runs: {updates:?}"
                );
                // The SDK posts its last update from another thread, on another connection: it may
                // arrive after the result. The result stays.
                tokio::time::sleep(Duration::from_millis(500)).await;
                let st = api.status(ep, &id).await;
                assert_eq!(
                    (&st["status"], &st["output"]),
                    (&json!("COMPLETED"), &json!({"done": true})),
                    "{st}"
                );
                let progress_posts = api
                    .seen()
                    .iter()
                    .filter(|s| s.uri.contains(&format!("/job-done/py-progress-1/{id}")))
                    .count();
                assert_eq!(
                    progress_posts, 4,
                    "three updates and the result, all to job-done"
                );
            })
            .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_modifier_takes_batches_and_a_cancel_reaches_the_worker_through_job_stop() {
    within(async {
        let ep = "py-conc";
        let api = Api::start(external_runtime(&[ep], Duration::from_secs(2)), None).await;
        // Jobs first, so that the worker's first take (a batch of 4) finds them all.
        let mut ids = Vec::new();
        for _ in 0..4 {
            ids.push(api.run(ep, json!({"op": "sleep", "secs": 1.5})).await);
        }
        let worker = PyWorker::spawn("batched.py", &api.base, ep, "py-conc-1");
        worker.alive_while(async {
        let mut spans = Vec::new();
        for id in &ids {
            let st = api.wait_final(ep, id).await;
            assert_eq!(st["status"], "COMPLETED", "{st}\n{}", worker.log());
            let out = &st["output"];
            spans.push((out["start"].as_f64().unwrap(), out["end"].as_f64().unwrap()));
        }
        let last_start = spans.iter().map(|s| s.0).fold(f64::MIN, f64::max);
        let first_end = spans.iter().map(|s| s.1).fold(f64::MAX, f64::min);
        assert!(
            last_start < first_end,
            "the 4 jobs ran at the same time: {spans:?}"
        );
        let seen = api.seen();
        assert!(
            seen.iter().any(|s| s.uri.contains("/job-take-batch/py-conc-1?")
                && s.uri.contains("batch_size=4")
                && s.status == 200),
            "the worker took a batch of 4: {seen:?}"
        );

        // Cancel a running job: the worker hears it on job-stop and cancels the handler.
        let marker = std::env::temp_dir().join(format!(
            "python-interop-{}-cancelled-{}",
            std::process::id(),
            now_epoch_s()
        ));
        let _ = std::fs::remove_file(&marker);
        let id = api
            .run(
                ep,
                json!({"op": "wait_cancel", "secs": 60, "marker": marker.to_str().unwrap()}),
            )
            .await;
        let st = api.wait_running(ep, &id).await;
        assert_eq!(st["workerId"], "py-conc-1", "{st}");
        let c = api.cancel(ep, &id).await;
        assert_eq!(c["status"], "CANCELLED", "{c}");
        let until = Instant::now() + Duration::from_secs(10);
        while !marker.exists() {
            assert!(
                Instant::now() < until,
                "the handler was never cancelled: job-stop did not reach the worker\n{:?}\n{}",
                api.seen()
                    .iter()
                    .filter(|s| s.uri.contains("job-stop"))
                    .collect::<Vec<_>>(),
                worker.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(std::fs::read_to_string(&marker).unwrap(), id);
        let _ = std::fs::remove_file(&marker);
        assert!(
            api.seen().iter().any(|s| s.uri.contains("/job-stop/py-conc-1?") && s.status == 200),
            "the stop came through job-stop"
        );
        let st = api.status(ep, &id).await;
        assert_eq!(st["status"], "CANCELLED", "{st}");

        // The slot is free again: new jobs run.
        let st = api.runsync(ep, json!({"op": "sleep", "secs": 0.05})).await;
        assert_eq!(st["status"], "COMPLETED", "{st}");
        })
        .await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_worker_sends_stop_pod_and_the_worker_leaves_health() {
    within(async {
        let ep = "py-refresh";
        let api = Api::start(external_runtime(&[ep], Duration::from_secs(1)), None).await;
        let worker = PyWorker::spawn("refresh.py", &api.base, ep, "py-refresh-1");

        let st = api.runsync(ep, json!({"x": 1})).await;
        assert_eq!(
            (&st["status"], &st["output"], &st["workerId"]),
            (&json!("COMPLETED"), &json!({"x": 1}), &json!("py-refresh-1")),
            "{st}\n{}",
            worker.log()
        );
        // config refresh_worker: the result carries stopPod, then the worker exits.
        let exit = worker.wait_exit(Duration::from_secs(20)).await;
        assert!(
            exit.is_some_and(|s| s.success()),
            "the worker exits with 0 after a refresh: {exit:?}\n{}",
            worker.log()
        );
        let h = api.health(ep).await;
        assert_eq!(
            h["workers"],
            json!({"idle": 0, "initializing": 0, "ready": 0, "running": 0, "throttled": 0, "unhealthy": 0}),
            "the worker asked to be replaced (stopPod) and has exited, yet /health still \
             counts it (its heartbeat pings after the stopPod re-register it): {h}\n\
             its requests: {:?}",
            api.seen()
                .iter()
                .filter(|s| s.uri.contains("py-refresh-1"))
                .map(|s| format!("{} {} -> {}", s.method, s.uri, s.status))
                .collect::<Vec<_>>()
        );
    })
    .await;
}
