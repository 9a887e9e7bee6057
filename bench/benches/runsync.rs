//! `/runsync` round trips (issue 3.6): requests per second and p50/p99 latency of an echo
//! endpoint on our `dev` server, beside the official Python SDK's local API server
//! (`python echo.py --rp_serve_api`) and a bare axum echo route (the floor), all measured here
//! with the same load generator (one keep-alive connection per client), one server at a time.
//!
//! Goals: at least 10× the Python server's throughput, and within 2× of the floor (ours/floor
//! ≥ 0.5). `cargo bench -p endpoint-bench --bench runsync`; `BENCH_SECONDS` sets the window.

use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use endpoint_bench::load::{LoadResult, closed_loop};
use endpoint_bench::proc::{Proc, free_port, python, python_script, tree_rss};
use endpoint_bench::report::{Table, fmt_duration, ratio, verdict};

const APP: &str = env!("CARGO_BIN_EXE_bench-app");
const BODY: &str = r#"{"input": {"prompt": "hello", "n": 1}}"#;
const CONCURRENCY: [usize; 3] = [1, 16, 64];

/// One server under test.
struct Subject {
    label: &'static str,
    path: &'static str,
    start: fn(u16) -> Proc,
}

fn ours(port: u16) -> Proc {
    let mut cmd = Command::new(APP);
    cmd.args(["dev", "--port", &port.to_string()]);
    Proc::spawn(cmd, "ours-dev")
}

fn ours_quiet(port: u16) -> Proc {
    let mut cmd = Command::new(APP);
    cmd.args(["dev", "--port", &port.to_string()])
        .env("RUST_LOG", "warn");
    Proc::spawn(cmd, "ours-dev-quiet")
}

fn python_server(port: u16) -> Proc {
    let mut cmd = Command::new(python());
    cmd.arg(python_script("echo.py"))
        .args(["--rp_serve_api", "--rp_api_host", "127.0.0.1"])
        .args(["--rp_api_port", &port.to_string()])
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("RUNPOD_WEBHOOK_GET_JOB");
    Proc::spawn(cmd, "python-rp-serve-api")
}

fn floor(port: u16) -> Proc {
    let mut cmd = Command::new(APP);
    cmd.args(["floor", "--port", &port.to_string()]);
    Proc::spawn(cmd, "axum-floor")
}

/// Waits until the server answers a `/runsync` with `COMPLETED`.
async fn ready(proc: &mut Proc, addr: SocketAddr, path: &str) {
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let r = closed_loop(
            addr,
            path,
            BODY,
            "COMPLETED",
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

fn main() {
    let window = Duration::from_secs(
        std::env::var("BENCH_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(5),
    );
    let warmup = Duration::from_secs(1);
    // The generator gets both cores' worth of threads; the server under test shares the machine.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    let subjects = [
        Subject {
            label: "ours: app dev (default log: a line per job)",
            path: "/v2/echo/runsync",
            start: ours,
        },
        Subject {
            label: "ours: app dev, RUST_LOG=warn",
            path: "/v2/echo/runsync",
            start: ours_quiet,
        },
        Subject {
            label: "python: handler.py --rp_serve_api",
            path: "/runsync",
            start: python_server,
        },
        Subject {
            label: "floor: bare axum echo route",
            path: "/v2/echo/runsync",
            start: floor,
        },
    ];
    println!(
        "/runsync benchmark: {} s per point after {} s of warm-up, concurrency {:?}, {} cores",
        window.as_secs(),
        warmup.as_secs(),
        CONCURRENCY,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut results: Vec<(&str, Vec<LoadResult>)> = Vec::new();
    let mut memory: Vec<(&str, u64)> = Vec::new();
    rt.block_on(async {
        for s in &subjects {
            let port = free_port();
            let addr: SocketAddr = ([127, 0, 0, 1], port).into();
            let mut proc = (s.start)(port);
            ready(&mut proc, addr, s.path).await;
            let mut rows = Vec::new();
            for c in CONCURRENCY {
                let r = closed_loop(addr, s.path, BODY, "COMPLETED", c, warmup, window).await;
                eprintln!(
                    "  {:<46} c={c:<3} {:>9.0} req/s  p50 {}  p99 {}  errors {}",
                    s.label,
                    r.rps(),
                    fmt_duration(r.latency(0.5)),
                    fmt_duration(r.latency(0.99)),
                    r.errors
                );
                rows.push(r);
            }
            assert!(proc.running(), "the server died\n{}", proc.log_tail());
            memory.push((s.label, tree_rss(proc.pid()).iter().map(|p| p.rss_kb).sum()));
            results.push((s.label, rows));
        }
    });

    let mut t = Table::new(
        "POST /runsync, echo, one keep-alive connection per client",
        &["server", "clients", "req/s", "p50", "p99", "errors"],
    );
    for (label, rows) in &results {
        for r in rows {
            t.row(vec![
                label.to_string(),
                r.concurrency.to_string(),
                format!("{:.0}", r.rps()),
                fmt_duration(r.latency(0.5)),
                fmt_duration(r.latency(0.99)),
                r.errors.to_string(),
            ]);
        }
    }
    t.print();

    let mut t = Table::new(
        "Server resident memory (VmRSS, child processes included) after its three runs",
        &["server", "requests served", "RSS"],
    );
    for ((label, kb), (_, rows)) in memory.iter().zip(&results) {
        let served: f64 = rows
            .iter()
            .map(|r| r.rps() * (r.window + warmup).as_secs_f64())
            .sum();
        t.row(vec![
            label.to_string(),
            format!("≈{:.0}", served),
            format!("{:.1} MB", *kb as f64 / 1024.0),
        ]);
    }
    t.print();

    let get = |i: usize| &results[i].1;
    let (ours_r, quiet_r, py_r, floor_r) = (get(0), get(1), get(2), get(3));
    let mut t = Table::new(
        "Ratios (throughput): goals ours/python ≥ 10×, ours/floor ≥ 0.5× (within 2×)",
        &[
            "clients",
            "ours/python",
            "goal 10×",
            "ours/floor",
            "goal 0.5×",
            "ours quiet/python",
            "ours quiet/floor",
            "p50 ours/floor",
        ],
    );
    for i in 0..CONCURRENCY.len() {
        let (o, q, p, f) = (&ours_r[i], &quiet_r[i], &py_r[i], &floor_r[i]);
        t.row(vec![
            o.concurrency.to_string(),
            ratio(o.rps(), p.rps()),
            verdict(o.rps() >= 10.0 * p.rps()).into(),
            ratio(o.rps(), f.rps()),
            verdict(o.rps() >= 0.5 * f.rps()).into(),
            ratio(q.rps(), p.rps()),
            ratio(q.rps(), f.rps()),
            ratio(o.latency(0.5).as_secs_f64(), f.latency(0.5).as_secs_f64()),
        ]);
    }
    t.print();
}
