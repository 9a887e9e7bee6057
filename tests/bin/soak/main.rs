//! The chaos soak (`scripts/soak.sh`): `app dev` with external worker processes and a real
//! Redis session store under mixed load (runsync, run and poll, streams, cancels, purges,
//! retries, two-turn sessions, requests dropped mid-way) while a chaos loop kills workers
//! (SIGKILL, then a new process), restarts Redis, and the clients drop connections; and
//! conversations with a load-balancing endpoint whose workers retire when idle, so turns keep
//! losing the worker they are pinned to and must move, while some answers are dropped
//! mid-stream. At the
//! end, after the queues drain: every job `/run` accepted reached one final state and kept it,
//! no finished session step ran again, no process logged a panic; and it reports `app dev`'s
//! memory and open file descriptors over the run. Exits 1 on any violation.
//!
//! `soak [SECONDS]` (default 180); the logs stay in `target/soak/`.

mod load;
mod procs;
mod report;
mod verify;

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use load::{Ledger, Load};
use procs::{Proc, app_binary, free_port, usage, wait_port};

/// Endpoints served by external worker processes (the others by `app dev`'s simulated
/// workers), with how many processes each.
const EXTERNAL: [(&str, u32); 2] = [("echo", 2), ("soak_steps", 2)];

fn worker(
    dev: &str,
    endpoint: &'static str,
    id: String,
    redis: String,
    steps: PathBuf,
) -> impl Fn() -> Command + Send + 'static {
    let dev = dev.to_string();
    move || {
        let mut c = Command::new(app_binary());
        c.arg("worker")
            .env(
                "RUNPOD_WEBHOOK_GET_JOB",
                format!("{dev}/v2/{endpoint}/job-take/$ID"),
            )
            .env(
                "RUNPOD_WEBHOOK_POST_OUTPUT",
                format!("{dev}/v2/{endpoint}/job-done/$RUNPOD_POD_ID/$ID"),
            )
            .env(
                "RUNPOD_WEBHOOK_POST_STREAM",
                format!("{dev}/v2/{endpoint}/job-stream/$RUNPOD_POD_ID/$ID"),
            )
            .env(
                "RUNPOD_WEBHOOK_PING",
                format!("{dev}/v2/{endpoint}/ping/$RUNPOD_POD_ID"),
            )
            .env("RUNPOD_PING_INTERVAL", "1000")
            .env("RUNPOD_POD_ID", &id)
            .env("ENDPOINT_NAME", endpoint)
            .env("SESSION_STORE_URL", &redis)
            .env("SOAK_STEP_LOG", &steps);
        c
    }
}

fn redis(dir: &std::path::Path, port: u16) -> impl Fn() -> Command + Send + 'static {
    let data = dir.join("redis");
    let _ = std::fs::create_dir_all(&data);
    move || {
        let mut c = Command::new(std::env::var("REDIS_SERVER").unwrap_or("redis-server".into()));
        // Every write on disk before it is acknowledged: a restart keeps each checkpoint.
        c.args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--appendonly",
            "yes",
        ])
        .args(["--appendfsync", "always", "--save", "", "--dir"])
        .arg(&data);
        c
    }
}

/// The processes under test.
struct Cluster {
    steps: PathBuf,
    redis: Proc,
    redis_port: u16,
    dev: Proc,
    base: String,
    workers: Vec<Proc>,
}

impl Cluster {
    /// Redis, then `app dev` (the external endpoints left to workers), then the workers.
    fn start(dir: PathBuf) -> Cluster {
        let steps = dir.join("steps.log");
        let redis_port = free_port();
        let redis = Proc::start(&dir, "redis", redis(&dir, redis_port));
        assert!(
            wait_port(redis_port, Duration::from_secs(10)),
            "redis did not start"
        );
        let redis_url = format!("redis://127.0.0.1:{redis_port}");
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}");
        let dev = Proc::start(&dir, "app-dev", {
            let (redis_url, steps) = (redis_url.clone(), steps.clone());
            move || {
                let mut c = Command::new(app_binary());
                // Results kept for a while only, as on the platform: memory then reaches a
                // plateau. At ~1 500 runsync echoes a second, 20 000 results last ~13 s: the
                // checker reads most jobs twice within that; a result dropped before its second
                // read is counted as such, not as a change.
                c.args([
                    "dev",
                    "--port",
                    &port.to_string(),
                    "--keep-results",
                    "20000",
                ]);
                for (e, _) in EXTERNAL {
                    c.args(["--external", e]);
                }
                c.env("SESSION_STORE_URL", &redis_url)
                    .env("SOAK_STEP_LOG", &steps)
                    .env("RUST_LOG", "warn");
                c
            }
        });
        assert!(
            wait_port(port, Duration::from_secs(30)),
            "app dev did not start"
        );
        let workers = EXTERNAL
            .iter()
            .flat_map(|(e, n)| (0..*n).map(move |i| (*e, i)))
            .map(|(e, i)| {
                let id = format!("{e}-{i}");
                let make = worker(&base, e, id.clone(), redis_url.clone(), steps.clone());
                Proc::start(&dir, &id, make)
            })
            .collect();
        Cluster {
            steps,
            redis,
            redis_port,
            dev,
            base,
            workers,
        }
    }

    /// For `seconds`: a worker killed (and a new one started) every 4 s, Redis restarted every
    /// 25 s, and `app dev`'s (second, RSS kB, open fds) sampled every second.
    fn chaos(&mut self, seconds: u64) -> (Vec<(u64, u64, usize)>, u32, u32) {
        let started = Instant::now();
        let mut samples = Vec::new();
        let (mut kills, mut restarts, mut tick) = (0, 0, 0u64);
        while started.elapsed() < Duration::from_secs(seconds) {
            std::thread::sleep(Duration::from_secs(1));
            tick += 1;
            if let Some((rss, fds)) = self.dev.pid().and_then(usage) {
                samples.push((started.elapsed().as_secs(), rss, fds));
            }
            if tick.is_multiple_of(4) {
                let i = spread(tick / 4, self.workers.len());
                self.workers[i].restart();
                kills += 1;
            }
            if tick.is_multiple_of(25) {
                self.redis.restart();
                restarts += 1;
                wait_port(self.redis_port, Duration::from_secs(10));
            }
        }
        (samples, kills, restarts)
    }

    /// Panics in any process's log.
    fn panics(&self) -> Vec<String> {
        std::iter::once(&self.dev)
            .chain(self.workers.iter())
            .chain(std::iter::once(&self.redis))
            .flat_map(|p| p.panics().into_iter().map(|l| format!("{}: {l}", p.name)))
            .collect()
    }

    /// Stops the workers and `app dev` (Redis goes when dropped).
    fn stop(&mut self) {
        for w in &mut self.workers {
            w.stop(Duration::from_secs(5));
        }
        self.dev.stop(Duration::from_secs(5));
    }
}

/// Starts every client of the mixed load.
fn clients(load: &Load) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = Vec::new();
    for _ in 0..2 {
        tasks.push(tokio::spawn(load.clone().runsync_echo()));
        tasks.push(tokio::spawn(load.clone().run_and_poll()));
    }
    tasks.push(tokio::spawn(load.clone().streams()));
    tasks.push(tokio::spawn(load.clone().cancels()));
    tasks.push(tokio::spawn(load.clone().purges()));
    tasks.push(tokio::spawn(load.clone().retries()));
    tasks.push(tokio::spawn(load.clone().droppers()));
    for c in 0..3 {
        tasks.push(tokio::spawn(load.clone().sessions(c)));
        tasks.push(tokio::spawn(load.clone().lb_conversations(c)));
    }
    tasks
}

fn main() -> std::process::ExitCode {
    let seconds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(180);
    let dir = std::env::current_dir().unwrap().join("target/soak");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut cluster = Cluster::start(dir);

    endpoint_sdk::install_tls_provider();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let ledger = Arc::new(Ledger::default());
    let stop = Arc::new(AtomicBool::new(false));
    let load = Load {
        base: cluster.base.clone(),
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap(),
        ledger: ledger.clone(),
        stop: stop.clone(),
    };
    let (tasks, checker) = rt.block_on(async {
        let checker = tokio::spawn(verify::checker(
            load.http.clone(),
            load.base.clone(),
            ledger.clone(),
            stop.clone(),
            // A killed worker's jobs come back after the 30 s lost-worker window.
            Duration::from_secs(150),
        ));
        (clients(&load), checker)
    });
    let (samples, kills, redis_restarts) = cluster.chaos(seconds);
    stop.store(true, Ordering::Relaxed);
    let verdict = rt.block_on(async {
        for t in tasks {
            let _ = tokio::time::timeout(Duration::from_secs(90), t).await;
        }
        checker.await.expect("the checker does not panic")
    });
    let dev_alive = cluster.dev.running();
    cluster.stop();
    report::print(report::Summary {
        seconds,
        requests: ledger.requests.load(Ordering::Relaxed),
        accepted: rt.block_on(async { ledger.accepted.lock().await.len() }),
        sessions: ledger.sessions.load(Ordering::Relaxed),
        steps_done: verify::steps_done(&cluster.steps),
        lb: (
            ledger.lb_turns.load(Ordering::Relaxed),
            ledger.lb_moved.load(Ordering::Relaxed),
            ledger.lb_dropped.load(Ordering::Relaxed),
        ),
        kills,
        redis_restarts,
        verdict: &verdict,
        step_reruns: &verify::step_reruns(&cluster.steps),
        panics: &cluster.panics(),
        samples: &samples,
        client_failures: &rt.block_on(async { ledger.failures.lock().await.clone() }),
        dev_alive,
    })
}

/// The `k`th worker to kill, spread over all of them.
fn spread(k: u64, n: usize) -> usize {
    (k.wrapping_mul(2_654_435_761) % n as u64) as usize
}
