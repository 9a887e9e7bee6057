//! Prometheus metrics, scraped and parsed: `app dev`'s `/metrics` (a process) counts the jobs
//! sent to it by final status, their stream chunks, its workers and cold starts; a production
//! worker process serves its own on `ENDPOINT_METRICS_PORT`; a load-balancing endpoint's
//! requests by status and what became of their pin.

mod support;

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use endpoint_sdk::local::LocalRuntime;
use serde_json::json;
use support::{TestServer, client, free_port};

const APP: &str = env!("CARGO_BIN_EXE_test-worker");
const LB_APP: &str = env!("CARGO_BIN_EXE_lb-worker");
const BOUND: Duration = Duration::from_secs(30);

/// A scraped page: each sample (`name{labels}`) with its value, and the families' types.
struct Page {
    samples: HashMap<String, f64>,
    types: HashMap<String, String>,
    text: String,
}

impl Page {
    fn parse(text: String) -> Page {
        let mut samples = HashMap::new();
        let mut types = HashMap::new();
        for line in text.lines() {
            if let Some(t) = line.strip_prefix("# TYPE ") {
                let (name, kind) = t.split_once(' ').expect("`# TYPE name kind`");
                types.insert(name.to_string(), kind.to_string());
            } else if !line.starts_with('#') && !line.is_empty() {
                let (sample, value) = line.rsplit_once(' ').expect("`sample value`");
                let value: f64 = value.parse().unwrap_or_else(|_| panic!("a number: {line}"));
                samples.insert(sample.to_string(), value);
            }
        }
        assert!(text.ends_with("# EOF\n"), "OpenMetrics ends with # EOF");
        Page {
            samples,
            types,
            text,
        }
    }

    fn get(&self, sample: &str) -> f64 {
        self.samples.get(sample).copied().unwrap_or(0.0)
    }
}

async fn scrape(url: &str) -> Page {
    let r = client().get(url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let ct = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("application/openmetrics-text"), "{ct}");
    Page::parse(r.text().await.unwrap())
}

/// Scrapes until `ok` holds (events are counted as they are made).
async fn scrape_until(url: &str, what: &str, ok: impl Fn(&Page) -> bool) -> Page {
    let start = std::time::Instant::now();
    loop {
        let page = scrape(url).await;
        if ok(&page) {
            return page;
        }
        assert!(start.elapsed() < BOUND, "{what}:\n{}", page.text);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn dev(bin: &str) -> (Proc, String) {
    dev_with(bin, &[], "warn", None)
}

/// `app dev` with more arguments, at log level `log`, its output to `log_file` if given.
fn dev_with(
    bin: &str,
    args: &[&str],
    log: &str,
    log_file: Option<&std::path::Path>,
) -> (Proc, String) {
    let port = free_port();
    let out = || match log_file {
        Some(p) => Stdio::from(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .unwrap(),
        ),
        None => Stdio::null(),
    };
    let child = Command::new(bin)
        .args(["dev", "--port", &port.to_string()])
        .args(args)
        .env("RUST_LOG", log)
        .stdout(out())
        .stderr(out())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..500 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (Proc(child), base)
}

async fn runsync(base: &str, endpoint: &str, input: serde_json::Value) -> serde_json::Value {
    client()
        .post(format!("{base}/v2/{endpoint}/runsync"))
        .json(&json!({ "input": input }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_devs_metrics_count_the_jobs_sent_by_status_with_their_chunks_and_workers() {
    let (_dev, base) = dev(APP);
    for i in 0..3 {
        assert_eq!(
            runsync(&base, "echo", json!(i)).await["status"],
            "COMPLETED"
        );
    }
    assert_eq!(
        runsync(&base, "refuse", json!("no")).await["status"],
        "FAILED"
    );
    assert_eq!(
        runsync(&base, "count", json!(4)).await["status"],
        "COMPLETED"
    );
    let url = format!("{base}/metrics");
    let page = scrape_until(&url, "the five jobs counted", |p| {
        p.get(r#"endpoint_jobs_total{endpoint="echo",status="COMPLETED"}"#) == 3.0
            && p.get(r#"endpoint_jobs_total{endpoint="refuse",status="FAILED"}"#) == 1.0
            && p.get(r#"endpoint_jobs_total{endpoint="count",status="COMPLETED"}"#) == 1.0
    })
    .await;
    assert_eq!(
        page.get(r#"endpoint_stream_chunks_total{endpoint="count"}"#),
        4.0
    );
    assert_eq!(
        page.get(r#"endpoint_job_execution_seconds_count{endpoint="echo"}"#),
        3.0
    );
    assert_eq!(
        page.get(r#"endpoint_job_queue_delay_seconds_count{endpoint="echo"}"#),
        3.0
    );
    assert!(page.get(r#"endpoint_workers{endpoint="echo",state="idle"}"#) >= 1.0);
    assert!(page.get(r#"endpoint_cold_start_seconds_count{endpoint="echo"}"#) >= 1.0);
    assert_eq!(page.get(r#"endpoint_jobs_queued{endpoint="echo"}"#), 0.0);
    for (family, kind) in [
        ("endpoint_jobs", "counter"),
        ("endpoint_jobs_queued", "gauge"),
        ("endpoint_job_execution_seconds", "histogram"),
        ("endpoint_workers", "gauge"),
    ] {
        assert_eq!(
            page.types.get(family).map(String::as_str),
            Some(kind),
            "{family}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_production_worker_serves_its_own_metrics_when_asked() {
    let rt = LocalRuntime::builder()
        .endpoint::<endpoint_tests::echo>()
        .served_externally("echo")
        .with_options(|o| o.take_wait = Duration::from_millis(500))
        .build()
        .unwrap();
    let server = TestServer::start(rt.clone(), None).await;
    let v2 = server.url("/v2/echo");
    let metrics_port = free_port();
    let _worker = Proc(
        Command::new(APP)
            .arg("worker")
            .env("ENDPOINT_NAME", "echo")
            .env("RUNPOD_POD_ID", "metrics-worker")
            .env("RUNPOD_WEBHOOK_GET_JOB", format!("{v2}/job-take/$ID"))
            .env(
                "RUNPOD_WEBHOOK_POST_OUTPUT",
                format!("{v2}/job-done/$RUNPOD_POD_ID/$ID"),
            )
            .env("ENDPOINT_METRICS_PORT", metrics_port.to_string())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    for i in 0..2 {
        let st = rt
            .run_sync("echo", json!(i).into(), Duration::from_secs(20))
            .await
            .unwrap();
        assert_eq!(st.output, Some(json!(i)));
    }
    let url = format!("http://127.0.0.1:{metrics_port}/metrics");
    let page = scrape_until(&url, "the worker's two jobs", |p| {
        p.get(r#"endpoint_jobs_total{endpoint="echo",status="COMPLETED"}"#) == 2.0
    })
    .await;
    assert_eq!(
        page.get(r#"endpoint_jobs_in_progress{endpoint="echo"}"#),
        0.0
    );
    assert_eq!(
        page.get(r#"endpoint_job_execution_seconds_count{endpoint="echo"}"#),
        2.0
    );
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_balancing_requests_are_counted_by_status_and_pin() {
    let (_dev, base) = dev(LB_APP);
    let http = client();
    let first = http
        .get(format!("{base}/lb/greeter/hello/ada"))
        .send()
        .await
        .unwrap();
    let worker = first.headers()["x-runpod-worker-id"]
        .to_str()
        .unwrap()
        .to_string();
    for pin in [worker.clone(), format!("strict {worker}")] {
        let r = http
            .get(format!("{base}/lb/greeter/hello/bo"))
            .header("x-runpod-worker-id", pin)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let gone = http
        .get(format!("{base}/lb/greeter/hello/cy"))
        .header("x-runpod-worker-id", "strict no-such-worker")
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
    let page = scrape(&format!("{base}/metrics")).await;
    let lb = |status: &str, pin: &str| {
        page.get(&format!(
            r#"endpoint_lb_requests_total{{endpoint="greeter",status="{status}",affinity="{pin}"}}"#
        ))
    };
    assert_eq!(lb("200", "none"), 1.0);
    assert_eq!(lb("200", "kept"), 2.0);
    assert_eq!(lb("404", "gone"), 1.0);
    assert_eq!(
        page.get(r#"endpoint_lb_request_seconds_count{endpoint="greeter"}"#),
        4.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_devs_log_never_contains_its_api_key() {
    const KEY: &str = "rpa_DEV_SUITE-SECRET_0123456789abcdef";
    let log = support::log_path(&format!("dev-key-{}", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let (dev, base) = dev_with(APP, &["--api-key", KEY], "debug", Some(&log));
    let post = |key: Option<&str>| {
        let mut r = client()
            .post(format!("{base}/v2/echo/runsync"))
            .json(&json!({ "input": "hi" }));
        if let Some(k) = key {
            r = r.bearer_auth(k);
        }
        r.send()
    };
    // Refused without the key, with a wrong one (a near miss of the real one), accepted with it.
    assert_eq!(post(None).await.unwrap().status(), 401);
    let near = format!("{}x", &KEY[..KEY.len() - 1]);
    assert_eq!(post(Some(&near)).await.unwrap().status(), 401);
    let ok = post(Some(KEY)).await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(
        ok.json::<serde_json::Value>().await.unwrap()["output"],
        "hi"
    );
    drop(dev);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.lines().count() > 3,
        "debug logging wrote little:\n{text}"
    );
    assert!(
        !text.contains(KEY),
        "the API key is in app dev's log:\n{text}"
    );
    assert!(
        !text.contains(&near),
        "a presented key is in app dev's log:\n{text}"
    );
}
