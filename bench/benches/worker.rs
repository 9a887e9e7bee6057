//! The production worker (issues 4.8 and 21): our worker (an application as a user writes it,
//! `bench/apps/endpoint-sdk-echo`, built as `deploy --emit-dockerfile`'s image builds it, with
//! `--features endpoint-sdk/worker-only`, into `target/peers`), the other Rust worker runtime for
//! this platform (`runpod-sdk` 0.6.3 from crates.io, feature `serverless`, built from
//! `bench/peers/runpod-sdk-echo` into `target/peers` too) and the official Python worker
//! (`runpod` 1.12), each with an echo handler against a fresh job server of ours in this process (so the
//! server is not the bottleneck), with a layer around `Server::router()` recording, on the
//! server side, when each job-take arrives and when each job-done is answered.
//!
//! (a) jobs per second of an echo handler at concurrency 1 and 16 (ours: endpoints with
//!     `concurrency = 1` / `16`; runpod-sdk: `RUNPOD_WORKER_CONCURRENCY`; Python:
//!     `concurrency_modifier` returning 1 / 16), the queue always holding jobs, the two Rust
//!     workers alternating over `BENCH_ROUNDS` rounds (default 3; the median is kept); the
//!     resident memory while serving at 16; (b) the dispatch gap: from a job-done answered to
//!     the next job-take of the same worker; (c) cold start: process spawn to its first job
//!     completed (the job waiting in the queue); (d) resident memory of an idle worker, child
//!     processes included, and the anonymous part of it (what the process allocated).
//!
//! Goals: ≥ 1.0× runpod-sdk's jobs/s at concurrency 1 and 16, cold start and RSS no worse than
//! its; ≥ 100× Python's throughput; median gap < 1 ms, cold start < 20 ms, idle RSS < 10 MB.
//! `cargo bench -p endpoint-bench --bench worker`; `BENCH_PROFILE=ours:16` runs one worker at one
//! concurrency for `BENCH_SECONDS` (20), to profile it; `BENCH_PROFILE=start` only (c) and (d).

use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use endpoint_bench::endpoints::{echo_c1, echo_c16};
use endpoint_bench::proc::{Proc, ProcMem, python, python_script, tree_cpu, tree_rss};
use endpoint_bench::report::{Table, fmt_duration, median, quantile, ratio, verdict};
use endpoint_sdk::EndpointDef;
use endpoint_sdk::local::LocalRuntime;
use endpoint_sdk::server::Server;
use serde_json::json;
use tokio::sync::Notify;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Ours,
    /// runpod-sdk 0.6.3's serverless worker.
    Peer,
    Python,
}

const WORKERS: [Which; 3] = [Which::Ours, Which::Peer, Which::Python];

impl Which {
    fn label(self) -> &'static str {
        match self {
            Which::Ours => "ours (worker-only release)",
            Which::Peer => "runpod-sdk 0.6.3 (release)",
            Which::Python => "python runpod 1.12",
        }
    }
}

/// A Rust worker's binary, built (once per run) in release from its own workspace
/// `bench/<dir>` (with `features`), into `target/peers`.
fn build_worker(dir: &str, features: &[&str]) -> std::path::PathBuf {
    let root = endpoint_bench::proc::workspace_root();
    let target = root.join("target/peers");
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--release", "--quiet", "--manifest-path"])
        .arg(root.join("bench").join(dir).join("Cargo.toml"))
        .args(features.iter().flat_map(|f| ["--features", f]))
        .arg("--target-dir")
        .arg(&target)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "bench/{dir} did not build");
    let name = dir.rsplit('/').next().expect("a directory");
    target.join("release").join(name)
}

static PEER: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
static OURS: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();

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
    /// A server that holds an empty job-take open for 2 s, as the platform holds it.
    async fn start() -> JobServer {
        JobServer::start_with(Duration::from_secs(2)).await
    }

    /// A server that holds an empty job-take open for `take_wait`.
    async fn start_with(take_wait: Duration) -> JobServer {
        let runtime = LocalRuntime::builder()
            .definition(EndpointDef::of::<echo_c1>())
            .definition(EndpointDef::of::<echo_c16>())
            .served_externally("echo-c1")
            .served_externally("echo-c16")
            .with_options(|o| {
                o.take_wait = take_wait;
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
            let mut c = Command::new(OURS.get().expect("built in main"));
            // As on the platform, which sets the endpoint's id: logs are its JSON lines.
            c.env_clear()
                .env("ENDPOINT_NAME", endpoint)
                .env("RUNPOD_ENDPOINT_ID", "bench");
            c
        }
        Which::Peer => {
            let mut c = Command::new(PEER.get().expect("built in main"));
            c.env_clear()
                .env("RUNPOD_ENDPOINT_ID", "bench")
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .env("RUNPOD_WORKER_CONCURRENCY", concurrency.to_string());
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
    /// The worker's resident memory (children included) at the end of the window, in kB.
    serving_kb: u64,
    /// The worker's CPU time (children included) over the window.
    cpu: Duration,
}

impl Run {
    fn jobs_per_s(&self) -> f64 {
        self.done as f64 / self.window.as_secs_f64()
    }

    /// The worker's CPU time per job done.
    fn cpu_per_job(&self) -> Duration {
        self.cpu / self.done.max(1) as u32
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
    tokio::time::sleep_until(start.into()).await;
    let cpu_before = tree_cpu(worker.pid());
    tokio::time::sleep_until(end.into()).await;
    let cpu = tree_cpu(worker.pid()).saturating_sub(cpu_before);
    assert!(worker.running(), "the worker died\n{}", worker.log_tail());
    let serving_kb = tree_rss(worker.pid()).iter().map(|p| p.rss_kb).sum();
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
        serving_kb,
        cpu,
    }
}

/// One cold start: (spawn → first job-take, spawn → first job done). The server answers an
/// empty job-take at once (as the issue's own job server did): runpod-sdk prefetches the next
/// job while the first runs and posts the result only when that take returns, so a server that
/// holds an empty take open (as the platform does) would add its whole wait to the peer's
/// first job done.
async fn cold_start(which: Which) -> (Duration, Duration) {
    let srv = JobServer::start_with(Duration::ZERO).await;
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

/// The median run of each worker and concurrency, over the rounds.
fn medians(mut runs: Vec<Run>) -> Vec<Run> {
    let mut out = Vec::new();
    for which in WORKERS {
        for c in [1, 16] {
            let (mut these, rest): (Vec<Run>, Vec<Run>) = runs
                .into_iter()
                .partition(|r| r.which == which && r.concurrency == c);
            runs = rest;
            these.sort_by(|a, b| a.jobs_per_s().total_cmp(&b.jobs_per_s()));
            if !these.is_empty() {
                out.push(these.swap_remove(these.len() / 2));
            }
        }
    }
    out
}

/// (a) and (b): every worker at concurrency 1 and 16; the Rust workers `rounds` times each,
/// alternating, Python once (it is two orders of magnitude away).
async fn throughputs(rounds: usize) -> Vec<Run> {
    let mut runs = Vec::new();
    for round in 0..rounds {
        for which in WORKERS {
            if which == Which::Python && round > 0 {
                continue;
            }
            // One short job per second at concurrency 1: a longer window for a stable figure.
            let (warmup, window) = match which {
                Which::Python => (Duration::from_secs(2), Duration::from_secs(10)),
                _ => (Duration::from_secs(1), Duration::from_secs(5)),
            };
            for c in [1, 16] {
                let r = throughput(which, c, warmup, window).await;
                eprintln!(
                    "  round {round}: {:<28} c={c:<2} {:>9.1} jobs/s  gap p50 {}  CPU/job {}  RSS {} kB",
                    which.label(),
                    r.jobs_per_s(),
                    quantile(&r.gaps, 0.5).map_or("-".into(), fmt_duration),
                    fmt_duration(r.cpu_per_job()),
                    r.serving_kb
                );
                runs.push(r);
            }
        }
    }
    medians(runs)
}

fn print_throughput(runs: &[Run]) {
    let mut t = Table::new(
        "(a) echo jobs per second, the queue never empty (server-side count of job-done; the median round)",
        &[
            "worker",
            "concurrency",
            "window",
            "jobs done",
            "jobs/s",
            "worker CPU per job",
            "RSS serving",
        ],
    );
    for r in runs {
        t.row(vec![
            r.which.label().into(),
            r.concurrency.to_string(),
            format!("{} s", r.window.as_secs()),
            r.done.to_string(),
            format!("{:.1}", r.jobs_per_s()),
            fmt_duration(r.cpu_per_job()),
            format!("{:.1} MB", r.serving_kb as f64 / 1024.0),
        ]);
    }
    t.print();
    let find = |w: Which, c: usize| {
        runs.iter()
            .find(|r| r.which == w && r.concurrency == c)
            .expect("measured above")
    };
    let mut t = Table::new(
        "(a) ratios: ours / runpod-sdk (goal ≥ 1.0× jobs/s, RSS ≤ 1.0×), ours / python (goal ≥ 100×)",
        &[
            "concurrency",
            "ours jobs/s",
            "runpod-sdk",
            "ours/runpod-sdk",
            "goal",
            "RSS ours/runpod-sdk",
            "goal",
            "python",
            "ours/python",
            "goal",
        ],
    );
    for c in [1, 16] {
        let (o, r, p) = (
            find(Which::Ours, c),
            find(Which::Peer, c),
            find(Which::Python, c),
        );
        t.row(vec![
            c.to_string(),
            format!("{:.1}", o.jobs_per_s()),
            format!("{:.1}", r.jobs_per_s()),
            ratio(o.jobs_per_s(), r.jobs_per_s()),
            verdict(o.jobs_per_s() >= r.jobs_per_s()).into(),
            ratio(o.serving_kb as f64, r.serving_kb as f64),
            verdict(o.serving_kb <= r.serving_kb).into(),
            format!("{:.1}", p.jobs_per_s()),
            ratio(o.jobs_per_s(), p.jobs_per_s()),
            verdict(o.jobs_per_s() >= 100.0 * p.jobs_per_s()).into(),
        ]);
    }
    t.print();
    let mut t = Table::new(
        "(b) dispatch gap: job-done answered → next job-take of the worker (server side; goal median < 1 ms)",
        &[
            "worker",
            "concurrency",
            "samples",
            "median",
            "p99",
            "max",
            "goal",
        ],
    );
    for r in runs {
        let q = |p| quantile(&r.gaps, p).map_or("-".into(), fmt_duration);
        t.row(vec![
            r.which.label().into(),
            r.concurrency.to_string(),
            r.gaps.len().to_string(),
            q(0.5),
            q(0.99),
            q(1.0),
            if r.which == Which::Ours {
                verdict(quantile(&r.gaps, 0.5).is_some_and(|g| g < Duration::from_millis(1))).into()
            } else {
                String::new()
            },
        ]);
    }
    t.print();
}

/// (c): `runs` cold starts of each worker, alternating; the medians.
async fn cold_starts(runs: usize) {
    let mut t = Table::new(
        &format!(
            "(c) cold start, {runs} runs each: process spawn → first job-take / first job done (goal < 20 ms, no worse than runpod-sdk)"
        ),
        &[
            "worker",
            "→ take, median",
            "→ done, median",
            "→ done, min",
            "→ done, max",
            "goal",
        ],
    );
    let (mut takes, mut dones) = (vec![Vec::new(); 3], vec![Vec::new(); 3]);
    for _ in 0..runs {
        for (i, which) in WORKERS.into_iter().enumerate() {
            let (take, done) = cold_start(which).await;
            takes[i].push(take);
            dones[i].push(done);
        }
    }
    let medians: Vec<Duration> = dones
        .iter()
        .map(|d| median(d).unwrap_or_default())
        .collect();
    for (i, which) in WORKERS.into_iter().enumerate() {
        eprintln!(
            "  {:<28} cold start median {}",
            which.label(),
            fmt_duration(medians[i])
        );
        t.row(vec![
            which.label().into(),
            fmt_duration(median(&takes[i]).unwrap_or_default()),
            fmt_duration(medians[i]),
            fmt_duration(*dones[i].iter().min().unwrap()),
            fmt_duration(*dones[i].iter().max().unwrap()),
            if which == Which::Ours {
                verdict(medians[0] < Duration::from_millis(20) && medians[0] <= medians[1]).into()
            } else {
                String::new()
            },
        ]);
    }
    for (label, of) in [("runpod-sdk / ours", 1), ("python / ours", 2)] {
        t.row(vec![
            label.into(),
            String::new(),
            ratio(medians[of].as_secs_f64(), medians[0].as_secs_f64()),
            String::new(),
            String::new(),
            String::new(),
        ]);
    }
    t.print();
}

/// (d): each worker's idle resident memory.
async fn idle_memory() {
    let mut t = Table::new(
        "(d) idle resident memory (VmRSS; anonymous: RssAnon, the rest is the executable's and libraries' pages), 3 s after the first job-take, child processes included (goal < 10 MB, no more than runpod-sdk)",
        &[
            "worker",
            "processes",
            "main",
            "children",
            "total",
            "of it anonymous",
            "goal",
        ],
    );
    let mut trees = Vec::new();
    for which in WORKERS {
        trees.push(idle_rss(which).await);
    }
    let totals: Vec<u64> = trees
        .iter()
        .map(|tree| tree.iter().map(|p| p.rss_kb).sum())
        .collect();
    for ((which, tree), total) in WORKERS.into_iter().zip(&trees).zip(&totals) {
        let main_kb = tree.first().map_or(0, |p| p.rss_kb);
        t.row(vec![
            which.label().into(),
            tree.len().to_string(),
            format!("{main_kb} kB"),
            format!("{} kB", total - main_kb),
            format!("{total} kB ({:.1} MB)", *total as f64 / 1024.0),
            format!("{} kB", tree.iter().map(|p| p.anon_kb).sum::<u64>()),
            if which == Which::Ours {
                verdict(totals[0] < 10 * 1024 && totals[0] <= totals[1]).into()
            } else {
                String::new()
            },
        ]);
    }
    for (label, of) in [("runpod-sdk / ours", 1), ("python / ours", 2)] {
        t.row(vec![
            label.into(),
            String::new(),
            String::new(),
            String::new(),
            ratio(totals[of] as f64, totals[0] as f64),
            String::new(),
            String::new(),
        ]);
    }
    t.print();
}

/// `BENCH_PROFILE=ours:16` (or `peer:1`, ...): one throughput run of `BENCH_SECONDS` (20), for
/// a profiler attached to the worker meanwhile (`perf record -a`); prints its figures.
async fn profile_run(only: &str, seconds: usize) {
    let (which, c) = only.split_once(':').unwrap_or((only, "16"));
    let which = match which {
        "ours" => Which::Ours,
        "peer" => Which::Peer,
        "python" => Which::Python,
        other => panic!("BENCH_PROFILE={other}: expected ours, peer or python, then :concurrency"),
    };
    let c = c.parse().expect("BENCH_PROFILE's concurrency is a number");
    let window = Duration::from_secs(seconds as u64);
    let r = throughput(which, c, Duration::from_secs(1), window).await;
    println!(
        "{} c={c}: {:.1} jobs/s, CPU/job {}, RSS {} kB",
        which.label(),
        r.jobs_per_s(),
        fmt_duration(r.cpu_per_job()),
        r.serving_kb
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    let knob = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
    };
    let (cold_runs, rounds) = (knob("BENCH_COLD_RUNS", 5), knob("BENCH_ROUNDS", 3));
    println!(
        "worker benchmark: our worker vs runpod-sdk 0.6.3's and the official Python worker; {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let ours =
        OURS.get_or_init(|| build_worker("apps/endpoint-sdk-echo", &["endpoint-sdk/worker-only"]));
    println!("our worker (worker-only build): {}", ours.display());
    let peer = PEER.get_or_init(|| build_worker("peers/runpod-sdk-echo", &[]));
    println!("runpod-sdk worker: {}", peer.display());
    match std::env::var("BENCH_PROFILE").as_deref() {
        Ok("start") => {
            rt.block_on(async {
                cold_starts(cold_runs).await;
                idle_memory().await;
            });
            return;
        }
        Ok(only) => {
            rt.block_on(profile_run(only, knob("BENCH_SECONDS", 20)));
            return;
        }
        Err(_) => {}
    }
    println!("python: {}", python().display());
    rt.block_on(async {
        print_throughput(&throughputs(rounds).await);
        cold_starts(cold_runs).await;
        idle_memory().await;
    });
    let _ = std::fs::remove_dir_all(
        std::env::temp_dir().join(format!("endpoint-bench-{}-home", std::process::id())),
    );
}
