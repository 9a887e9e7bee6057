//! Sessions (issue 6.6): what checkpointing costs per step, with the memory store and with the
//! Redis store (a private `redis-server` on loopback, started here), against floors measured in
//! the same run: the same step run without a session, and one bare Redis `SET` of the same bytes
//! over one connection (the least a step stored in Redis can cost: one round trip).
//!
//! Each step returns a value of a given size (a small tool result, an agent's context window),
//! stored as JSON. Then a resume: a second job opens the session with its finished steps and
//! replays them, which runs none of them again (counted).
//!
//! `cargo bench -p endpoint-bench --bench session`; `BENCH_STEPS` sets the steps per row.

use std::hint::black_box;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use endpoint_bench::proc::{Proc, free_port};
use endpoint_bench::report::{Table, fmt_duration, quantile, ratio};
use endpoint_sdk::session::{MemoryStore, RedisStore, Session, SessionOptions, Sessions};

/// Payloads: a tool result, and a context window of about 4 000 tokens.
const SIZES: [(&str, usize); 2] = [("256 B", 256), ("16 KiB", 16 * 1024)];
/// Steps replayed by the resume.
const RESUME_STEPS: usize = 20;

/// A value of about `bytes` bytes once serialized, the shape of an agent's notes.
fn payload(bytes: usize) -> Vec<String> {
    let line = "retrieved: the A100 80GB holds a 70B model in FP8 with room for the KV cache. ";
    let n = (bytes / (line.len() + 3)).max(1);
    vec![line.to_string(); n]
}

/// Per-step latencies, sorted.
struct Steps {
    sorted: Vec<Duration>,
}

impl Steps {
    fn new(mut v: Vec<Duration>) -> Steps {
        v.sort();
        Steps { sorted: v }
    }

    fn mean(&self) -> Duration {
        self.sorted.iter().sum::<Duration>() / self.sorted.len().max(1) as u32
    }

    fn q(&self, p: f64) -> Duration {
        quantile(&self.sorted, p).unwrap_or_default()
    }
}

/// `steps` steps without a session: the step's body alone.
async fn without_session(value: &[String], steps: usize) -> Steps {
    let mut v = Vec::with_capacity(steps);
    for _ in 0..steps {
        let t = Instant::now();
        let out: Vec<String> = async { value.to_vec() }.await;
        black_box(out);
        v.push(t.elapsed());
    }
    Steps::new(v)
}

/// `steps` checkpointed steps in one fresh session of `sessions`.
async fn checkpointed(sessions: &Sessions, id: &str, value: &[String], steps: usize) -> Steps {
    let session = Session::open(sessions, id, "bench").await.expect("open");
    let mut v = Vec::with_capacity(steps);
    for i in 0..steps {
        let name = format!("step-{i}");
        let t = Instant::now();
        let out: Vec<String> = session
            .step(&name, || async { value.to_vec() })
            .await
            .expect("a step is stored");
        black_box(out);
        v.push(t.elapsed());
    }
    session.delete().await.expect("delete");
    Steps::new(v)
}

/// One bare `SET` of `bytes` per step over one multiplexed connection.
async fn bare_set(url: &str, bytes: &[u8], steps: usize) -> Steps {
    let client = redis::Client::open(url).expect("a Redis URL");
    let mut con = client
        .get_multiplexed_async_connection()
        .await
        .expect("Redis answers");
    let mut v = Vec::with_capacity(steps);
    for i in 0..steps {
        let t = Instant::now();
        let _: () = redis::cmd("SET")
            .arg(format!("bench:bare:{i}"))
            .arg(bytes)
            .query_async(&mut con)
            .await
            .expect("SET");
        v.push(t.elapsed());
    }
    let _: () = redis::cmd("FLUSHDB")
        .query_async(&mut con)
        .await
        .expect("FLUSHDB");
    Steps::new(v)
}

/// A session with `RESUME_STEPS` finished steps, opened again and replayed: the time to open it
/// and to replay every step, and how many step bodies ran again (must be zero).
async fn resume(sessions: &Sessions, id: &str, value: &[String]) -> (Duration, usize) {
    let first = Session::open(sessions, id, "bench").await.expect("open");
    for i in 0..RESUME_STEPS {
        let _: Vec<String> = first
            .step(&format!("step-{i}"), || async { value.to_vec() })
            .await
            .expect("a step is stored");
    }
    drop(first);
    let ran = Arc::new(AtomicUsize::new(0));
    let t = Instant::now();
    let again = Session::open(sessions, id, "bench").await.expect("reopen");
    for i in 0..RESUME_STEPS {
        let ran = ran.clone();
        let out: Vec<String> = again
            .step(&format!("step-{i}"), || async move {
                ran.fetch_add(1, Ordering::Relaxed);
                value.to_vec()
            })
            .await
            .expect("a step is replayed");
        black_box(out);
    }
    let took = t.elapsed();
    again.delete().await.expect("delete");
    (took, ran.load(Ordering::Relaxed))
}

/// A private `redis-server` with no persistence on a free loopback port.
fn start_redis() -> (Proc, String) {
    let binary = std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".to_string());
    if Command::new(&binary).arg("--version").output().is_err() {
        panic!(
            "the session benchmark needs `{binary}`: run ./scripts/bench.sh (it installs one), \
             `apt-get install redis-server`, or set REDIS_SERVER to its path"
        );
    }
    let port = free_port();
    let mut cmd = Command::new(&binary);
    cmd.args([
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
    ]);
    let proc = Proc::spawn(cmd, "redis-server");
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "redis-server did not start:\n{}",
            proc.log_tail()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    (proc, format!("redis://127.0.0.1:{port}"))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let steps: usize = std::env::var("BENCH_STEPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000);
    let (_redis, url) = start_redis();
    // Thousands of 16 KiB steps in one session: above the default 16 MiB limit.
    let options = SessionOptions {
        max_bytes: 1 << 30,
        ..SessionOptions::default()
    };
    let memory = Sessions::new(Arc::new(MemoryStore::new()), options.clone());
    let redis = Sessions::new(
        Arc::new(RedisStore::new(&url).expect("a Redis URL")),
        options,
    );

    let mut table = Table::new(
        &format!(
            "Checkpoint cost per step ({steps} steps per row; a step's value stored as JSON; \
             Redis on loopback, no persistence)"
        ),
        &[
            "value",
            "how",
            "mean",
            "p50",
            "p99",
            "overhead vs no session",
            "vs bare SET",
        ],
    );
    let mut resumes = Table::new(
        &format!("Resume: open a session with {RESUME_STEPS} finished steps and replay them all"),
        &[
            "value",
            "store",
            "open + replay",
            "per step",
            "steps run again",
        ],
    );
    for (label, size) in SIZES {
        let value = payload(size);
        let bytes = serde_json::to_vec(&value).expect("JSON");
        // Warm-up: allocator, connections, the scripts loaded into Redis.
        let _ = checkpointed(&memory, "warm", &value, steps / 10).await;
        let _ = checkpointed(&redis, "warm", &value, steps / 10).await;
        let _ = bare_set(&url, &bytes, steps / 10).await;

        let none = without_session(&value, steps).await;
        let mem = checkpointed(&memory, &format!("mem-{size}"), &value, steps).await;
        let red = checkpointed(&redis, &format!("redis-{size}"), &value, steps).await;
        let set = bare_set(&url, &bytes, steps).await;
        let row = |how: &str, s: &Steps, vs_set: bool| {
            vec![
                label.to_string(),
                how.to_string(),
                fmt_duration(s.mean()),
                fmt_duration(s.q(0.5)),
                fmt_duration(s.q(0.99)),
                if how == "no session" {
                    "-".into()
                } else {
                    fmt_duration(s.mean().saturating_sub(none.mean()))
                },
                if vs_set {
                    ratio(s.mean().as_secs_f64(), set.mean().as_secs_f64())
                } else {
                    "-".into()
                },
            ]
        };
        table.row(row("no session", &none, false));
        table.row(row("memory store", &mem, false));
        table.row(row("Redis store", &red, true));
        table.row(row("bare Redis SET (floor)", &set, true));

        for (store, sessions) in [("memory", &memory), ("Redis", &redis)] {
            let (took, ran) = resume(sessions, &format!("resume-{store}-{size}"), &value).await;
            resumes.row(vec![
                label.to_string(),
                store.to_string(),
                fmt_duration(took),
                fmt_duration(took / RESUME_STEPS as u32),
                ran.to_string(),
            ]);
        }
    }
    table.print();
    resumes.print();
    println!(
        "\nA step of the research agent is an LLM call or a fan-out (hundreds of ms to seconds): \
         the Redis checkpoint is one loopback round trip plus the JSON of the value."
    );
}
