//! The production worker (issue 4.8): our worker binary and the official Python worker
//! (`runpod` 1.12), each against a fresh job server of ours in this process (so the server is
//! not the bottleneck), with a layer around `Server::router()` recording, on the server side,
//! when each job-take arrives and when each job-done is answered.
//!
//! (a) jobs per second of an echo handler at concurrency 1 and 16 (ours: endpoints with
//!     `concurrency = 1` / `16`; Python: `concurrency_modifier` returning 1 / 16), the queue
//!     always holding jobs; (b) the dispatch gap: from a job-done answered to the next job-take
//!     of the same worker; (c) cold start: process spawn to its first job completed (the job
//!     waiting in the queue); (d) resident memory of an idle worker, child processes included.
//!
//! Goals: median gap < 1 ms, ≥ 100× Python's throughput, cold start < 20 ms, idle RSS < 10 MB.
//! `cargo bench -p endpoint-bench --bench worker`.

use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use endpoint_bench::endpoints::{echo_c1, echo_c16};
use endpoint_bench::proc::{Proc, ProcMem, python, python_script, tree_rss};
use endpoint_bench::report::{Table, fmt_duration, median, quantile, ratio, verdict};
use endpoint_sdk::EndpointDef;
use endpoint_sdk::local::LocalRuntime;
use endpoint_sdk::server::Server;
use serde_json::json;
use tokio::sync::Notify;

const APP: &str = env!("CARGO_BIN_EXE_bench-app");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Ours,
    Python,
}

impl Which {
    fn label(self) -> &'static str {
        match self {
            Which::Ours => "ours (release binary)",
            Which::Python => "python runpod 1.12",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Take,
    Done,
}

/// What the server saw, in order.
#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<(Kind, Instant)>>,
    done: AtomicU64,
    done_signal: Notify,
}

impl Recorder {
    fn events(&self) -> Vec<(Kind, Instant)> {
        let mut e = self.events.lock().unwrap().clone();
        e.sort_by_key(|(_, t)| *t);
        e
    }

    fn first(&self, kind: Kind) -> Option<Instant> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, t)| *t)
            .min()
    }
}

/// A job-take is recorded when it arrives; a job-done when it has been answered.
async fn record(State(rec): State<Arc<Recorder>>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let kind = if path.contains("/job-take") {
        Some(Kind::Take)
    } else if path.contains("/job-done/") {
        Some(Kind::Done)
    } else {
        None
    };
    if kind == Some(Kind::Take) {
        rec.events
            .lock()
            .unwrap()
            .push((Kind::Take, Instant::now()));
    }
    let resp = next.run(req).await;
    if kind == Some(Kind::Done) && resp.status().is_success() {
        rec.events
            .lock()
            .unwrap()
            .push((Kind::Done, Instant::now()));
        rec.done.fetch_add(1, Ordering::Relaxed);
        rec.done_signal.notify_one();
    }
    resp
}

/// A job server of ours: the echo endpoints served only by external workers.
struct JobServer {
    runtime: LocalRuntime,
    base: String,
    rec: Arc<Recorder>,
    task: tokio::task::JoinHandle<()>,
}

impl JobServer {
    async fn start() -> JobServer {
        let runtime = LocalRuntime::builder()
            .definition(EndpointDef::of::<echo_c1>())
            .definition(EndpointDef::of::<echo_c16>())
            .served_externally("echo-c1")
            .served_externally("echo-c16")
            .with_options(|o| {
                o.take_wait = Duration::from_secs(2);
                o.run_retention = Duration::from_secs(3);
                o.queue_limit = Some(1_000_000);
            })
            .build()
            .expect("the benchmark endpoints are consistent");
        let rec = Arc::new(Recorder::default());
        let router = Server::new(runtime.clone())
            .router()
            .layer(axum::middleware::from_fn_with_state(rec.clone(), record));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        JobServer {
            runtime,
            base,
            rec,
            task,
        }
    }

    /// Keeps `depth` jobs waiting: a new job for every one done.
    fn feed(&self, endpoint: &'static str, depth: u64) -> tokio::task::JoinHandle<()> {
        let rt = self.runtime.clone();
        let rec = self.rec.clone();
        tokio::spawn(async move {
            let mut submitted = 0u64;
            loop {
                let done = rec.done.load(Ordering::Relaxed);
                while submitted < done + depth {
                    rt.submit(endpoint, json!({"prompt": "hello", "n": submitted}).into())
                        .expect("the queue takes the job");
                    submitted += 1;
                }
                tokio::select! {
                    _ = rec.done_signal.notified() => {}
                    _ = tokio::time::sleep(Duration::from_millis(2)) => {}
                }
            }
        })
    }

    /// Waits until `n` jobs are done.
    async fn wait_done(&self, n: u64, worker: &mut Proc) {
        let until = Instant::now() + Duration::from_secs(60);
        while self.rec.done.load(Ordering::Relaxed) < n {
            assert!(
                worker.running() && Instant::now() < until,
                "the worker completed no job\n{}",
                worker.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

impl Drop for JobServer {
    fn drop(&mut self) {
        self.task.abort();
        self.runtime.shutdown();
    }
}

fn spawn_worker(which: Which, base: &str, endpoint: &str, concurrency: usize) -> Proc {
    let v2 = format!("{base}/v2/{endpoint}");
    let mut cmd = match which {
        Which::Ours => {
            let mut c = Command::new(APP);
            c.env_clear().env("ENDPOINT_NAME", endpoint);
            c
        }
        Which::Python => {
            let mut c = Command::new(python());
            let home =
                std::env::temp_dir().join(format!("endpoint-bench-{}-home", std::process::id()));
            let _ = std::fs::create_dir_all(&home);
            c.arg(python_script("echo_async.py"))
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .env("HOME", &home)
                .env("LANG", "C.UTF-8")
                .env("PYTHONUNBUFFERED", "1")
                .env("PYTHONDONTWRITEBYTECODE", "1")
                .env("CONCURRENCY", concurrency.to_string())
                // The fitness checks include a TCP connect to 8.8.8.8: stay on loopback (they
                // take about 20 ms, within the noise of its cold start).
                .env("RUNPOD_SKIP_AUTO_SYSTEM_CHECKS", "true");
            c
        }
    };
    cmd.env(
        "RUNPOD_WEBHOOK_GET_JOB",
        format!("{v2}/job-take/$ID?gpu=bench"),
    )
    .env(
        "RUNPOD_WEBHOOK_POST_OUTPUT",
        format!("{v2}/job-done/$RUNPOD_POD_ID/$ID?gpu=bench"),
    )
    .env(
        "RUNPOD_WEBHOOK_POST_STREAM",
        format!("{v2}/job-stream/$RUNPOD_POD_ID/$ID?gpu=bench"),
    )
    .env(
        "RUNPOD_WEBHOOK_PING",
        format!("{v2}/ping/$RUNPOD_POD_ID?gpu=bench"),
    )
    .env("RUNPOD_PING_INTERVAL", "10000")
    .env("RUNPOD_AI_API_KEY", "bench-key")
    .env(
        "RUNPOD_POD_ID",
        format!("{which:?}-{endpoint}").to_lowercase(),
    );
    Proc::spawn(cmd, &format!("{which:?}-worker-{endpoint}"))
}

/// A throughput run.
struct Run {
    which: Which,
    concurrency: usize,
    window: Duration,
    done: usize,
    gaps: Vec<Duration>,
}

impl Run {
    fn jobs_per_s(&self) -> f64 {
        self.done as f64 / self.window.as_secs_f64()
    }
}

async fn throughput(which: Which, concurrency: usize, warmup: Duration, window: Duration) -> Run {
    let endpoint = if concurrency == 1 {
        "echo-c1"
    } else {
        "echo-c16"
    };
    let srv = JobServer::start().await;
    let feeder = srv.feed(endpoint, 4 * concurrency as u64 + 32);
    let mut worker = spawn_worker(which, &srv.base, endpoint, concurrency);
    srv.wait_done(1, &mut worker).await;
    let start = Instant::now() + warmup;
    let end = start + window;
    tokio::time::sleep_until(end.into()).await;
    assert!(worker.running(), "the worker died\n{}", worker.log_tail());
    feeder.abort();
    let events: Vec<(Kind, Instant)> = srv
        .rec
        .events()
        .into_iter()
        .filter(|(_, t)| *t >= start && *t <= end)
        .collect();
    let done = events.iter().filter(|(k, _)| *k == Kind::Done).count();
    // Each job-take paired with the job-done answered last before it.
    let mut gaps = Vec::new();
    let mut last_done = None;
    for (kind, t) in events {
        match kind {
            Kind::Done => last_done = Some(t),
            Kind::Take => {
                if let Some(d) = last_done.take() {
                    gaps.push(t.saturating_duration_since(d));
                }
            }
        }
    }
    gaps.sort();
    Run {
        which,
        concurrency,
        window,
        done,
        gaps,
    }
}

/// One cold start: (spawn → first job-take, spawn → first job done).
async fn cold_start(which: Which) -> (Duration, Duration) {
    let srv = JobServer::start().await;
    srv.runtime
        .submit("echo-c1", json!({"prompt": "hello"}).into())
        .expect("the queue takes the job");
    let spawned = Instant::now();
    let mut worker = spawn_worker(which, &srv.base, "echo-c1", 1);
    srv.wait_done(1, &mut worker).await;
    let take = srv
        .rec
        .first(Kind::Take)
        .expect("a take came before the result");
    let done = srv.rec.first(Kind::Done).expect("the job is done");
    (take - spawned, done - spawned)
}

/// The process tree of an idle worker, 3 s after its first job-take.
async fn idle_rss(which: Which) -> Vec<ProcMem> {
    let srv = JobServer::start().await;
    let mut worker = spawn_worker(which, &srv.base, "echo-c1", 1);
    let until = Instant::now() + Duration::from_secs(60);
    while srv.rec.first(Kind::Take).is_none() {
        assert!(
            worker.running() && Instant::now() < until,
            "the worker never asked for a job\n{}",
            worker.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(worker.running(), "the worker died\n{}", worker.log_tail());
    tree_rss(worker.pid())
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    let cold_runs: usize = std::env::var("BENCH_COLD_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    println!(
        "worker benchmark: our worker binary ({APP}) vs the official Python worker; {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let python_path = python();
    println!("python: {}", python_path.display());

    rt.block_on(async {
        // (a) and (b)
        let mut runs = Vec::new();
        for (which, warmup, window) in [
            (Which::Ours, Duration::from_secs(1), Duration::from_secs(5)),
            // One short job per second at concurrency 1: a longer window for a stable figure.
            (Which::Python, Duration::from_secs(2), Duration::from_secs(10)),
        ] {
            for c in [1, 16] {
                let r = throughput(which, c, warmup, window).await;
                eprintln!(
                    "  {:<24} c={c:<2} {:>9.1} jobs/s  gap p50 {}",
                    which.label(),
                    r.jobs_per_s(),
                    quantile(&r.gaps, 0.5).map_or("-".into(), fmt_duration)
                );
                runs.push(r);
            }
        }
        let mut t = Table::new(
            "(a) echo jobs per second, the queue never empty (server-side count of job-done)",
            &["worker", "concurrency", "window", "jobs done", "jobs/s"],
        );
        for r in &runs {
            t.row(vec![
                r.which.label().into(),
                r.concurrency.to_string(),
                format!("{} s", r.window.as_secs()),
                r.done.to_string(),
                format!("{:.1}", r.jobs_per_s()),
            ]);
        }
        t.print();
        let find = |w: Which, c: usize| {
            runs.iter()
                .find(|r| r.which == w && r.concurrency == c)
                .expect("measured above")
        };
        let mut t = Table::new(
            "(a) ratio: ours / python (goal ≥ 100×)",
            &["concurrency", "ours jobs/s", "python jobs/s", "ours/python", "goal"],
        );
        for c in [1, 16] {
            let (o, p) = (find(Which::Ours, c), find(Which::Python, c));
            t.row(vec![
                c.to_string(),
                format!("{:.1}", o.jobs_per_s()),
                format!("{:.1}", p.jobs_per_s()),
                ratio(o.jobs_per_s(), p.jobs_per_s()),
                verdict(o.jobs_per_s() >= 100.0 * p.jobs_per_s()).into(),
            ]);
        }
        t.print();
        let mut t = Table::new(
            "(b) dispatch gap: job-done answered → next job-take of the worker (server side; goal median < 1 ms)",
            &["worker", "concurrency", "samples", "median", "p99", "max", "goal"],
        );
        for r in &runs {
            let q = |p| quantile(&r.gaps, p).map_or("-".into(), fmt_duration);
            t.row(vec![
                r.which.label().into(),
                r.concurrency.to_string(),
                r.gaps.len().to_string(),
                q(0.5),
                q(0.99),
                q(1.0),
                if r.which == Which::Ours {
                    verdict(quantile(&r.gaps, 0.5).is_some_and(|g| g < Duration::from_millis(1)))
                        .into()
                } else {
                    String::new()
                },
            ]);
        }
        t.print();

        // (c)
        let mut t = Table::new(
            &format!(
                "(c) cold start, {cold_runs} runs each: process spawn → first job-take / first job done (goal < 20 ms)"
            ),
            &["worker", "→ take, median", "→ done, median", "→ done, min", "→ done, max", "goal"],
        );
        let mut cold = Vec::new();
        for which in [Which::Ours, Which::Python] {
            let mut takes = Vec::new();
            let mut dones = Vec::new();
            for _ in 0..cold_runs {
                let (take, done) = cold_start(which).await;
                takes.push(take);
                dones.push(done);
            }
            let m = median(&dones).unwrap_or_default();
            eprintln!("  {:<24} cold start median {}", which.label(), fmt_duration(m));
            t.row(vec![
                which.label().into(),
                fmt_duration(median(&takes).unwrap_or_default()),
                fmt_duration(m),
                fmt_duration(*dones.iter().min().unwrap()),
                fmt_duration(*dones.iter().max().unwrap()),
                if which == Which::Ours {
                    verdict(m < Duration::from_millis(20)).into()
                } else {
                    String::new()
                },
            ]);
            cold.push(m);
        }
        t.row(vec![
            "python / ours".into(),
            String::new(),
            ratio(cold[1].as_secs_f64(), cold[0].as_secs_f64()),
            String::new(),
            String::new(),
            String::new(),
        ]);
        t.print();

        // (d)
        let mut t = Table::new(
            "(d) idle resident memory (VmRSS), 3 s after the first job-take, child processes included (goal < 10 MB)",
            &["worker", "processes", "main", "children", "total", "goal"],
        );
        let mut totals = Vec::new();
        for which in [Which::Ours, Which::Python] {
            let tree = idle_rss(which).await;
            let main_kb = tree.first().map_or(0, |p| p.rss_kb);
            let total: u64 = tree.iter().map(|p| p.rss_kb).sum();
            t.row(vec![
                which.label().into(),
                tree.len().to_string(),
                format!("{main_kb} kB"),
                format!("{} kB", total - main_kb),
                format!("{total} kB ({:.1} MB)", total as f64 / 1024.0),
                if which == Which::Ours {
                    verdict(total < 10 * 1024).into()
                } else {
                    String::new()
                },
            ]);
            totals.push(total);
        }
        t.row(vec![
            "python / ours".into(),
            String::new(),
            String::new(),
            String::new(),
            ratio(totals[1] as f64, totals[0] as f64),
            String::new(),
        ]);
        t.print();
    });
    let _ = std::fs::remove_dir_all(
        std::env::temp_dir().join(format!("endpoint-bench-{}-home", std::process::id())),
    );
}
