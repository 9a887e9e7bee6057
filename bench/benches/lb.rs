//! Load-balancing endpoints (issue 15.7): requests per second and p50/p99 latency of an echo
//! route through `app dev`'s balancer (`/lb/lb-echo/echo`: the balancer, a simulated worker,
//! the app), against the same router served bare by axum (the floor), each in a process of its
//! own, measured by the same load generator one server at a time; then the time from sending a
//! request to the first byte of a server-sent event stream, through each.
//!
//! Both servers run at once and take the load in turn, round after round (`BENCH_ROUNDS`, 3);
//! each point is the round of median throughput. Goal: ≥ 0.7× the bare router's throughput.
//! `cargo bench -p endpoint-bench --bench lb`; `BENCH_SECONDS` sets the window (3 s),
//! `BENCH_SAMPLES` the first-byte samples.

use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use endpoint_bench::load::{LoadResult, closed_loop};
use endpoint_bench::proc::{Proc, free_port};
use endpoint_bench::report::{Table, fmt_duration, quantile, ratio, verdict};

const APP: &str = env!("CARGO_BIN_EXE_bench-app");
const BODY: &str = r#"{"prompt": "hello", "n": 1}"#;
const CONCURRENCY: [usize; 2] = [1, 16];

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One server under test: how to start it, and its paths.
struct Subject {
    label: &'static str,
    args: &'static [&'static str],
    echo: &'static str,
    sse: &'static str,
}

const SUBJECTS: [Subject; 2] = [
    Subject {
        label: "ours: app dev's balancer → worker → app",
        args: &["dev"],
        echo: "/lb/lb-echo/echo",
        sse: "/lb/lb-echo/sse",
    },
    Subject {
        label: "floor: the same router, bare axum",
        args: &["floor-lb"],
        echo: "/echo",
        sse: "/sse",
    },
];

async fn ready(proc: &mut Proc, addr: SocketAddr, path: &str) {
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let r = closed_loop(
            addr,
            path,
            BODY,
            "hello",
            1,
            Duration::ZERO,
            Duration::from_millis(50),
        )
        .await;
        if !r.latencies.is_empty() {
            return;
        }
        assert!(
            proc.running() && Instant::now() < until,
            "the server never answered {path}\n{}",
            proc.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// From sending a GET of `url` to the first byte of its body, `samples` times in a row.
async fn first_byte(http: &reqwest::Client, url: &str, samples: u64) -> Vec<Duration> {
    let mut out = Vec::new();
    for _ in 0..samples {
        let start = Instant::now();
        let mut resp = http.get(url).send().await.expect("an answer");
        let chunk = resp.chunk().await.expect("a body").expect("a first chunk");
        out.push(start.elapsed());
        assert!(chunk.starts_with(b"data: first"), "{chunk:?}");
    }
    out.sort();
    out
}

struct Measured {
    /// Per concurrency, the run with the median throughput of the rounds.
    load: Vec<LoadResult>,
    first_byte: Vec<Duration>,
}

/// The run of median throughput.
fn median_run(mut runs: Vec<LoadResult>) -> LoadResult {
    runs.sort_by(|a, b| a.rps().total_cmp(&b.rps()));
    runs.swap_remove(runs.len() / 2)
}

fn main() {
    let window = Duration::from_secs(env_or("BENCH_SECONDS", 3));
    let samples = env_or("BENCH_SAMPLES", 500);
    let rounds = env_or("BENCH_ROUNDS", 3) as usize;
    let warmup = Duration::from_secs(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    println!(
        "load-balancing benchmark: {rounds} alternating rounds of {} s per point after {} s of warm-up, concurrency {:?}, {samples} first-byte samples; {} cores",
        window.as_secs(),
        warmup.as_secs(),
        CONCURRENCY,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let measured: Vec<Measured> = rt.block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::new();
        // Both servers up at once; one under load at a time, alternating round by round, so
        // that the machine's drift (a 2-core VM's neighbours) falls on both alike.
        let mut servers = Vec::new();
        for s in &SUBJECTS {
            let port = free_port();
            let addr: SocketAddr = ([127, 0, 0, 1], port).into();
            let mut cmd = Command::new(APP);
            cmd.args(s.args).args(["--port", &port.to_string()]);
            let mut proc = Proc::spawn(cmd, s.label);
            ready(&mut proc, addr, s.echo).await;
            servers.push((proc, addr));
        }
        let mut runs: Vec<Vec<Vec<LoadResult>>> =
            vec![vec![Vec::new(); CONCURRENCY.len()]; SUBJECTS.len()];
        for _ in 0..rounds {
            for (ci, c) in CONCURRENCY.iter().enumerate() {
                for (si, s) in SUBJECTS.iter().enumerate() {
                    let addr = servers[si].1;
                    runs[si][ci]
                        .push(closed_loop(addr, s.echo, BODY, "hello", *c, warmup, window).await);
                }
            }
        }
        let mut all = Vec::new();
        for ((s, (proc, addr)), per_c) in SUBJECTS.iter().zip(&mut servers).zip(runs) {
            let url = format!("http://{addr}{}", s.sse);
            let first_byte = first_byte(&http, &url, samples).await;
            assert!(proc.running(), "the server died\n{}", proc.log_tail());
            let load = per_c.into_iter().map(median_run).collect();
            all.push(Measured { load, first_byte });
        }
        all
    });
    report(&measured);
}

fn report(m: &[Measured]) {
    let mut t = Table::new(
        "POST /echo, one keep-alive connection per client (the median round)",
        &["server", "clients", "req/s", "p50", "p99", "errors"],
    );
    for (s, r) in SUBJECTS.iter().zip(m) {
        for l in &r.load {
            t.row(vec![
                s.label.into(),
                l.concurrency.to_string(),
                format!("{:.0}", l.rps()),
                fmt_duration(l.latency(0.5)),
                fmt_duration(l.latency(0.99)),
                l.errors.to_string(),
            ]);
        }
    }
    t.print();
    let mut t = Table::new(
        "GET /sse: from sending the request to the first byte of the event stream",
        &["server", "p50", "p99"],
    );
    for (s, r) in SUBJECTS.iter().zip(m) {
        let q = |p| fmt_duration(quantile(&r.first_byte, p).unwrap_or_default());
        t.row(vec![s.label.into(), q(0.5), q(0.99)]);
    }
    t.print();
    let (ours, floor) = (&m[0], &m[1]);
    let mut t = Table::new(
        "Ours / floor (goal: throughput ≥ 0.7×)",
        &["clients", "req/s", "goal", "p50 latency", "first byte p50"],
    );
    for (o, f) in ours.load.iter().zip(&floor.load) {
        let fb = |r: &Measured| {
            quantile(&r.first_byte, 0.5)
                .unwrap_or_default()
                .as_secs_f64()
        };
        t.row(vec![
            o.concurrency.to_string(),
            ratio(o.rps(), f.rps()),
            verdict(o.rps() >= 0.7 * f.rps()).to_string(),
            ratio(o.latency(0.5).as_secs_f64(), f.latency(0.5).as_secs_f64()),
            ratio(fb(ours), fb(floor)),
        ]);
    }
    t.print();
}
