//! The production worker of a load-balancing endpoint, as a process, over real HTTP: the health
//! check through each state (204 while `init` runs, 200 once ready, 503 when `init` failed),
//! the app on `PORT` with the check on the same or its own port, a request's `Ctx` reading the
//! caller's deadline, session and trace context, server-sent events arriving as they are
//! written, the platform's JSON log lines, and SIGTERM draining the requests in flight.

mod support;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use support::{client, free_port, until};

const BIN: &str = env!("CARGO_BIN_EXE_lb-worker");
const BOUND: Duration = Duration::from_secs(30);

/// The worker process; killed when dropped.
struct LbWorker {
    child: Child,
    log: std::path::PathBuf,
    port: u16,
    health_port: u16,
}

impl LbWorker {
    fn spawn(name: &str, health_port: Option<u16>, extra: &[(&str, &str)]) -> LbWorker {
        let port = free_port();
        let health_port = health_port.unwrap_or(port);
        let log = support::log_path(&format!("lb-worker-{}-{name}", std::process::id()));
        let out = std::fs::File::create(&log).unwrap();
        let mut cmd = Command::new(BIN);
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUNPOD_POD_ID", name)
            .env("PORT", port.to_string())
            .env("PORT_HEALTH", health_port.to_string())
            .stdout(Stdio::from(out.try_clone().unwrap()))
            .stderr(Stdio::from(out));
        for (k, v) in extra {
            cmd.env(k, v);
        }
        LbWorker {
            child: cmd.spawn().unwrap(),
            log,
            port,
            health_port,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn health_url(&self) -> String {
        format!("http://127.0.0.1:{}/ping", self.health_port)
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The health check's status, once the worker listens.
    async fn health(&self) -> u16 {
        let http = client();
        let mut tries = 0;
        loop {
            match http.get(self.health_url()).send().await {
                Ok(r) => return r.status().as_u16(),
                Err(_) if tries < 500 => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => panic!("the worker never listened: {e}\n{}", self.output()),
            }
        }
    }

    async fn wait_health(&self, status: u16) {
        let start = std::time::Instant::now();
        while self.health().await != status {
            assert!(
                start.elapsed() < BOUND,
                "health never {status}:\n{}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn sigterm(&self) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }

    fn wait_exit(&mut self) -> i32 {
        let start = std::time::Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s.code().unwrap_or(-1);
            }
            assert!(start.elapsed() < BOUND, "no exit:\n{}", self.output());
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for LbWorker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_health_check_answers_204_while_init_runs_then_200_and_the_app_serves() {
    let gate = std::env::temp_dir().join(format!("lb-gate-{}", std::process::id()));
    let _ = std::fs::remove_file(&gate);
    let w = LbWorker::spawn("w-init", None, &[("LB_INIT_GATE", gate.to_str().unwrap())]);
    let http = client();
    assert_eq!(w.health().await, 204, "initializing");
    let early = http.get(w.url("/hello/ada")).send().await.unwrap();
    assert_eq!(early.status(), 503, "the app waits for init");
    assert!(early.text().await.unwrap().contains("initializing"));
    // Still 204 a while later: it is the gate that ends init.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(w.health().await, 204);

    std::fs::write(&gate, b"go").unwrap();
    w.wait_health(200).await;
    let body: Value = http
        .get(w.health_url())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["status"], "healthy");
    let hello = http.get(w.url("/hello/ada")).send().await.unwrap();
    assert_eq!(hello.status(), 200);
    assert_eq!(hello.text().await.unwrap(), "hello, ada");
    let missing = http.get(w.url("/nope")).send().await.unwrap();
    assert_eq!(missing.status(), 404, "the app's own answer");
    let _ = std::fs::remove_file(&gate);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_init_makes_the_worker_unhealthy_with_the_reason() {
    let w = LbWorker::spawn(
        "w-fail",
        None,
        &[(
            "LB_INIT_FAIL",
            "model weights missing at /runpod-volume/w.bin",
        )],
    );
    w.wait_health(503).await;
    let body: Value = client()
        .get(w.health_url())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["status"], "unhealthy");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("model weights missing"),
        "{body}"
    );
    let app = client().get(w.url("/hello/x")).send().await.unwrap();
    assert_eq!(app.status(), 503);
    assert!(w.output().contains("init failed"), "{}", w.output());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_its_own_port_the_health_check_leaves_the_apps_paths_alone() {
    let w = LbWorker::spawn("w-ports", Some(free_port()), &[]);
    w.wait_health(200).await;
    // The app's port has no health route: its own 404.
    let on_app = client().get(w.url("/ping")).send().await.unwrap();
    assert_eq!(on_app.status(), 404);
    let hello = client().get(w.url("/hello/bo")).send().await.unwrap();
    assert_eq!(hello.text().await.unwrap(), "hello, bo");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_requests_ctx_has_the_callers_deadline_session_and_trace() {
    let w = LbWorker::spawn("w-ctx", None, &[]);
    w.wait_health(200).await;
    let at_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
        + 8_000;
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let v: Value = client()
        .get(w.url("/whoami"))
        .header("x-endpoint-deadline", format!("{at_ms} 8000"))
        .header("x-endpoint-session", "conv-7")
        .header("traceparent", format!("00-{trace}-00f067aa0ba902b7-01"))
        .header("x-request-id", "req-42")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["worker_id"], "w-ctx");
    assert_eq!(v["request_id"], "req-42");
    assert_eq!(v["session"], "conv-7");
    assert_eq!(v["trace_id"], trace);
    let left = v["remaining_ms"].as_u64().unwrap();
    assert!(
        left <= 8_000,
        "the caller's 8 s, not the 30 s ceiling: {left}"
    );

    // Without the caller's headers: the endpoint's own ceiling, a new trace.
    let v: Value = client()
        .get(w.url("/whoami"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let left = v["remaining_ms"].as_u64().unwrap();
    assert!(left > 8_000 && left <= 30_000, "{left}");
    assert_ne!(v["trace_id"], trace);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_sent_events_arrive_as_they_are_written() {
    let w = LbWorker::spawn("w-sse", None, &[]);
    w.wait_health(200).await;
    // Ten events two seconds apart: the first arrives long before the last is written.
    let resp = client()
        .get(w.url("/tokens?n=10&gap_ms=2000"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut resp = resp;
    let first = tokio::time::timeout(Duration::from_secs(10), resp.chunk())
        .await
        .expect("the first event before the stream ends")
        .unwrap()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&first).contains("data: 0"),
        "{first:?}"
    );
    drop(resp);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_the_requests_in_flight_and_logs_are_platform_json() {
    let mut w = LbWorker::spawn("w-drain", None, &[("RUNPOD_ENDPOINT_ID", "ep-lb")]);
    w.wait_health(200).await;
    let url = w.url("/slow?ms=1500");
    let in_flight = tokio::spawn(async move { client().post(url).send().await });
    // The request has reached the app before the signal.
    until("the slow request started", BOUND, || {
        w.output().contains("slow request started").then_some(())
    })
    .await;
    w.sigterm();
    let answered = in_flight.await.unwrap().expect("answered, not cut off");
    assert_eq!(answered.status(), 200);
    let body: Value = answered.json().await.unwrap();
    assert_eq!(body["slept_ms"], 1500);
    assert_eq!(w.wait_exit(), 0, "{}", w.output());
    // After the drain, nothing listens.
    assert!(client().get(w.url("/hello/x")).send().await.is_err());

    let log = w.output();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    let answered = lines
        .iter()
        .find(|l| {
            l["message"]
                .as_str()
                .unwrap_or("")
                .starts_with("POST /slow answered 200")
        })
        .unwrap_or_else(|| panic!("a line per request:\n{log}"));
    assert!(answered["requestId"].as_str().unwrap().starts_with("req-"));
    assert!(
        log.contains("every request in flight was answered"),
        "{log}"
    );
}
