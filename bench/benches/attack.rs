//! A well-behaved client while `app dev` is under attack (issue 20): the p50/p99 of sequential
//! `/runsync` echoes, alone (the baseline) and then while, at once, 1 500 connections send
//! their headers a byte at a time (slow-loris), 200 announce a 1 MB body and send 10 bytes,
//! two clients send 1 MB headers and two 1 MB of nested JSON in a loop, two flood a queue with
//! tiny jobs (until it answers 429), two more queue jobs of `noop` (left to worker processes)
//! that ten fake workers take and never answer, and fifty
//! stream consumers open `/stream` of a job streaming a million chunks and never read (each
//! job's unread stream is held at 8 MB). The attackers reconnect whenever the server cuts them
//! off. All on 127.0.0.1, stopping by itself.
//!
//! Goal: the server keeps serving everyone else: the well-behaved client's p99 under attack
//! within 10× of its baseline, with no error. `cargo bench -p endpoint-bench --bench attack`;
//! `BENCH_SECONDS` sets each window (default 8).

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use endpoint_bench::load::closed_loop;
use endpoint_bench::proc::{Proc, free_port, tree_rss};
use endpoint_bench::report::{Table, fmt_duration, ratio, verdict};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Mutex;

const APP: &str = env!("CARGO_BIN_EXE_bench-app");
const BODY: &str = r#"{"input": {"prompt": "hello", "n": 1}}"#;

/// What the attackers got back, by kind and first status line (or how the connection ended).
type Outcomes = Arc<Mutex<BTreeMap<(&'static str, String), u64>>>;

async fn note(outcomes: &Outcomes, kind: &'static str, what: String) {
    *outcomes.lock().await.entry((kind, what)).or_default() += 1;
}

/// Sends `request` and reads the first line of the answer (or says how the connection ended).
async fn exchange(addr: SocketAddr, request: &[u8]) -> String {
    let Ok(mut s) = TcpStream::connect(addr).await else {
        return "connect failed".into();
    };
    if s.write_all(request).await.is_err() {
        return "closed while sending".into();
    }
    let mut buf = vec![0u8; 256];
    match tokio::time::timeout(Duration::from_secs(60), s.read(&mut buf)).await {
        Ok(Ok(0)) => "closed".into(),
        Ok(Ok(n)) => first_line(&buf[..n]),
        Ok(Err(_)) => "reset".into(),
        Err(_) => "no answer in 60 s".into(),
    }
}

fn first_line(b: &[u8]) -> String {
    String::from_utf8_lossy(b)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Holds a connection sending its headers a byte a second; reconnects when cut off.
async fn slow_loris(addr: SocketAddr, stop: Arc<AtomicBool>, outcomes: Outcomes) {
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut s) = TcpStream::connect(addr).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let _ = s
            .write_all(b"GET /v2/echo/health HTTP/1.1\r\nHost: x\r\n")
            .await;
        loop {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
            if s.write_all(b"X").await.is_err() {
                note(&outcomes, "slow-loris headers", "cut off".into()).await;
                break;
            }
            let mut probe = [0u8; 64];
            if let Ok(Ok(n)) = tokio::time::timeout(Duration::ZERO, s.read(&mut probe)).await {
                let what = if n == 0 {
                    "closed".into()
                } else {
                    first_line(&probe[..n])
                };
                note(&outcomes, "slow-loris headers", what).await;
                break;
            }
        }
    }
}

/// Announces a 1 MB body, sends 10 bytes, waits for the verdict; again.
async fn short_body(addr: SocketAddr, stop: Arc<AtomicBool>, outcomes: Outcomes) {
    let req = b"POST /v2/echo/run HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                Content-Length: 1048576\r\n\r\n{\"input\":1";
    while !stop.load(Ordering::Relaxed) {
        let what = exchange(addr, req).await;
        note(&outcomes, "short bodies", what).await;
    }
}

/// Sends `request` in a loop.
async fn flood(
    addr: SocketAddr,
    kind: &'static str,
    request: Arc<Vec<u8>>,
    stop: Arc<AtomicBool>,
    outcomes: Outcomes,
) {
    while !stop.load(Ordering::Relaxed) {
        let what = exchange(addr, &request).await;
        note(&outcomes, kind, what).await;
    }
}

fn post(path: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Connection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").into_bytes()
}

/// Opens `/stream` of a long job and never reads the answer.
async fn deaf_stream(addr: SocketAddr, stop: Arc<AtomicBool>, outcomes: Outcomes) {
    let run = post(
        "/v2/ticks/run",
        br#"{"input": {"n": 1000000, "paced": false}}"#,
    );
    let id = {
        let Ok(mut s) = TcpStream::connect(addr).await else {
            return;
        };
        let _ = s.write_all(&run).await;
        let mut buf = vec![0u8; 4096];
        let n = s.read(&mut buf).await.unwrap_or(0);
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        let Some(body) = text.split("\r\n\r\n").nth(1) else {
            note(&outcomes, "deaf stream consumers", "no job".into()).await;
            return;
        };
        match serde_json::from_str::<serde_json::Value>(body) {
            Ok(v) => v["id"].as_str().unwrap_or_default().to_string(),
            Err(_) => return,
        }
    };
    let Ok(mut s) = TcpStream::connect(addr).await else {
        return;
    };
    let _ = s
        .write_all(format!("GET /v2/ticks/stream/{id} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .await;
    note(&outcomes, "deaf stream consumers", "holding".into()).await;
    while !stop.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(s);
}

/// Starts `n` attackers made by `attacker`, in the background.
fn spawn_n<F: Future<Output = ()> + Send + 'static>(n: usize, mut attacker: impl FnMut() -> F) {
    for _ in 0..n {
        drop(tokio::spawn(attacker()));
    }
}

/// Starts every attacker; they run until `stop`.
fn attack(addr: SocketAddr, stop: &Arc<AtomicBool>, outcomes: &Outcomes) {
    spawn_n(1_500, || slow_loris(addr, stop.clone(), outcomes.clone()));
    spawn_n(200, || short_body(addr, stop.clone(), outcomes.clone()));
    let mut big_header = b"GET /v2/echo/health HTTP/1.1\r\nHost: x\r\nX-Big: ".to_vec();
    big_header.extend(std::iter::repeat_n(b'a', 1 << 20));
    big_header.extend(b"\r\n\r\n");
    let nested = format!(
        "{{\"input\":{}{}}}",
        "[".repeat(1 << 19),
        "]".repeat(1 << 19)
    );
    // (what, its request, how many clients send it in a loop)
    let floods: [(&'static str, Vec<u8>, usize); 5] = [
        ("1 MB headers", big_header, 2),
        (
            "1 MB nested JSON",
            post("/v2/echo/run", nested.as_bytes()),
            2,
        ),
        (
            "tiny jobs to a busy queue",
            post(
                "/v2/ticks/run",
                br#"{"input": {"n": 100000, "paced": true}}"#,
            ),
            2,
        ),
        // `noop` is left to worker processes (`--external noop`): jobs for the fake workers
        // below, which take them and never answer.
        (
            "jobs for the fake workers",
            post("/v2/noop/run", br#"{"input": 1}"#),
            2,
        ),
        (
            "job-take, never answered",
            get("/v2/noop/job-take/attacker"),
            10,
        ),
    ];
    for (kind, request, clients) in floods {
        let request = Arc::new(request);
        spawn_n(clients, || {
            flood(addr, kind, request.clone(), stop.clone(), outcomes.clone())
        });
    }
    spawn_n(50, || deaf_stream(addr, stop.clone(), outcomes.clone()));
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    rt.block_on(run());
}

async fn run() {
    let window = Duration::from_secs(
        std::env::var("BENCH_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(8),
    );
    let port = free_port();
    let mut cmd = Command::new(APP);
    cmd.args(["dev", "--port", &port.to_string(), "--external", "noop"])
        .env("RUST_LOG", "error");
    let mut server = Proc::spawn(cmd, "ours-dev");
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let until = Instant::now() + Duration::from_secs(60);
    while closed_loop(
        addr,
        "/v2/echo/runsync",
        BODY,
        "COMPLETED",
        1,
        Duration::ZERO,
        Duration::from_millis(50),
    )
    .await
    .latencies
    .is_empty()
    {
        assert!(
            server.running() && Instant::now() < until,
            "app dev never answered\n{}",
            server.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let measure = || {
        closed_loop(
            addr,
            "/v2/echo/runsync",
            BODY,
            "COMPLETED",
            1,
            Duration::from_secs(1),
            window,
        )
    };
    let alone = measure().await;
    let rss_before: u64 = tree_rss(server.pid()).iter().map(|m| m.rss_kb).sum();

    let stop = Arc::new(AtomicBool::new(false));
    let outcomes: Outcomes = Arc::default();
    attack(addr, &stop, &outcomes);
    // Let the attack build up (connections opened, queues filled) before measuring.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let attacked = measure().await;
    let rss_during: u64 = tree_rss(server.pid()).iter().map(|m| m.rss_kb).sum();
    stop.store(true, Ordering::Relaxed);

    let mut t = Table::new(
        "A well-behaved client's /runsync (one connection, sequential) while app dev is attacked",
        &["", "requests", "errors", "p50", "p99", "server RSS"],
    );
    for (label, r, rss) in [
        ("alone", &alone, rss_before),
        ("under attack", &attacked, rss_during),
    ] {
        t.row(vec![
            label.to_string(),
            r.latencies.len().to_string(),
            r.errors.to_string(),
            fmt_duration(r.latency(0.50)),
            fmt_duration(r.latency(0.99)),
            format!("{} MB", rss / 1024),
        ]);
    }
    t.print();
    let p99 = |r: &endpoint_bench::load::LoadResult| r.latency(0.99).as_secs_f64();
    let ratio_p99 = p99(&attacked) / p99(&alone).max(1e-9);
    println!(
        "p99 under attack / alone: {} (goal ≤ 10×, no error) {}",
        ratio(p99(&attacked), p99(&alone)),
        verdict(ratio_p99 <= 10.0 && attacked.errors == 0 && !attacked.latencies.is_empty())
    );
    let mut t = Table::new("What the attackers got", &["attack", "answer", "count"]);
    for ((kind, what), n) in outcomes.lock().await.iter() {
        t.row(vec![kind.to_string(), what.clone(), n.to_string()]);
    }
    t.print();
    assert!(
        server.running(),
        "app dev died under attack\n{}",
        server.log_tail()
    );
}
