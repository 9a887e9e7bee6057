//! Typed streams (issue 14.6): how long a chunk takes from being written by a handler to being
//! yielded by `E::stream(..)`, in process and over loopback HTTP (`app dev`'s server in this
//! process, so both ends share a clock), against floors measured here: a bare channel, and a
//! bare HTTP long poll (a reqwest client waiting on an axum route that answers the moment a
//! value is written). Then chunks/s through one stream and through an orchestrator that relays
//! it; and through a production worker process whose every request, like the reader's, costs
//! 20 ms more through a proxy, as a real network would.
//!
//! `cargo bench -p endpoint-bench --bench stream`; `BENCH_CHUNKS` sets the chunks of the
//! throughput runs, `BENCH_SAMPLES` the latency samples.

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use endpoint_bench::endpoints::{PACE, Tick, stamp, ticks, ticks_relay};
use endpoint_bench::proc::{Proc, free_port};
use endpoint_bench::report::{Table, fmt_duration, quantile, ratio, verdict};
use endpoint_sdk::client::{CallStream, Client, HttpRoutes};
use endpoint_sdk::local::LocalRuntime;
use tokio::sync::Notify;

const APP: &str = env!("CARGO_BIN_EXE_bench-app");

fn env_or(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Latencies, sorted.
struct Latencies(Vec<Duration>);

impl Latencies {
    fn new(mut v: Vec<Duration>) -> Self {
        v.sort();
        Latencies(v)
    }

    fn q(&self, p: f64) -> Duration {
        quantile(&self.0, p).unwrap_or_default()
    }
}

fn since(at_ns: u64) -> Duration {
    Duration::from_nanos(stamp().saturating_sub(at_ns))
}

/// A paced stream read to its end: each chunk's latency, from its stamp to its yield.
async fn paced<E>(mut s: CallStream<E>) -> Latencies
where
    E: endpoint_sdk::Endpoint<Chunk = Tick>,
    E::Error: std::fmt::Debug,
{
    let mut out = Vec::new();
    while let Some(t) = s.next().await {
        out.push(since(t.expect("a chunk").at_ns));
    }
    Latencies::new(out)
}

/// A stream read to its end as fast as it comes: chunks/s from the call to its last chunk (the
/// submit and the job's start included).
async fn flood<E>(mut s: CallStream<E>, n: u32) -> f64
where
    E: endpoint_sdk::Endpoint<Chunk = Tick>,
    E::Error: std::fmt::Debug,
{
    let start = Instant::now();
    let mut seen = 0u32;
    while let Some(t) = s.next().await {
        assert_eq!(t.expect("a chunk").seq, seen, "in order, each once");
        seen += 1;
    }
    assert_eq!(seen, n);
    f64::from(n) / start.elapsed().as_secs_f64()
}

/// Floor: `samples` values sent on a channel one every [`PACE`], each measured when received.
async fn channel_floor(samples: u32) -> Latencies {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
    let writer = tokio::spawn(async move {
        for i in 0..samples {
            if i > 0 {
                tokio::time::sleep(PACE).await;
            }
            tx.send(stamp()).unwrap();
        }
    });
    let mut out = Vec::new();
    while let Some(at) = rx.recv().await {
        out.push(since(at));
    }
    writer.await.unwrap();
    Latencies::new(out)
}

/// The long-poll floor's shared slot: the values not read yet, and the reader waiting for them.
#[derive(Default)]
struct Slot {
    values: Mutex<Vec<u64>>,
    written: Notify,
}

/// Answers the values not read yet, as soon as there is one: `1,2,3`.
async fn long_poll(State(slot): State<Arc<Slot>>) -> String {
    loop {
        let written = slot.written.notified();
        tokio::pin!(written);
        written.as_mut().enable();
        let values = std::mem::take(&mut *slot.values.lock().unwrap());
        if !values.is_empty() {
            let text: Vec<String> = values.iter().map(u64::to_string).collect();
            return text.join(",");
        }
        written.await;
    }
}

/// Floor: `samples` values written on the server side one every [`PACE`], read by a client's
/// long polls over loopback, each measured when its answer arrives.
async fn long_poll_floor(http: &reqwest::Client, samples: u32) -> Latencies {
    let slot = Arc::new(Slot::default());
    let app = axum::Router::new()
        .route("/poll", axum::routing::get(long_poll))
        .with_state(slot.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/poll", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let writer = tokio::spawn(async move {
        for i in 0..samples {
            if i > 0 {
                tokio::time::sleep(PACE).await;
            }
            slot.values.lock().unwrap().push(stamp());
            slot.written.notify_one();
        }
    });
    let mut out = Vec::new();
    while out.len() < samples as usize {
        let text = http.get(&url).send().await.unwrap().text().await.unwrap();
        out.extend(text.split(',').map(|v| since(v.parse().unwrap())));
    }
    writer.await.unwrap();
    server.abort();
    Latencies::new(out)
}

/// `app dev`'s `/stream` long-polled by a bare reqwest loop (no SDK on the reader's side): how
/// much of the typed stream's latency is the server's.
async fn bare_reader_of_ours(
    http: &reqwest::Client,
    v2: &str,
    remote: &Client,
    samples: u32,
) -> Latencies {
    let job = ticks::submit(remote, samples, true).await.expect("a job");
    let url = format!("{v2}/ticks/stream/{}?wait=30000", job.id());
    let mut out = Vec::new();
    while out.len() < samples as usize {
        let resp = http.get(&url).send().await.unwrap();
        let v: serde_json::Value = resp.json().await.unwrap();
        for c in v["stream"].as_array().unwrap() {
            out.push(since(c["output"]["at_ns"].as_u64().unwrap()));
        }
    }
    Latencies::new(out)
}

/// `app dev`'s server for `rt`, on loopback in this process; its `/v2` base.
async fn serve(rt: LocalRuntime) -> String {
    let app = endpoint_sdk::server::Server::new(rt).router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

/// A proxy to `upstream` that holds every request `delay` before forwarding it.
async fn slow_proxy(upstream: String, delay: Duration) -> String {
    let http = reqwest::Client::new();
    let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
        let (http, upstream) = (http.clone(), upstream.clone());
        async move {
            tokio::time::sleep(delay).await;
            let path = req
                .uri()
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_string();
            let (method, headers) = (req.method().clone(), req.headers().clone());
            let body = axum::body::to_bytes(req.into_body(), usize::MAX)
                .await
                .unwrap();
            let mut fwd = http.request(method, format!("{upstream}{path}")).body(body);
            if let Some(ct) = headers.get(axum::http::header::CONTENT_TYPE) {
                fwd = fwd.header(axum::http::header::CONTENT_TYPE, ct);
            }
            let resp = fwd.send().await.unwrap();
            let status = resp.status();
            let bytes = resp.bytes().await.unwrap();
            axum::response::Response::builder()
                .status(status)
                .header("content-type", "application/json")
                .body(axum::body::Body::from(bytes))
                .unwrap()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

/// Chunks/s from a production worker process whose requests, and the reader's, cost `delay`.
async fn through_slow_network(n: u32, delay: Duration) -> f64 {
    let rt = LocalRuntime::builder()
        .endpoint::<ticks>()
        .served_externally("ticks")
        .with_options(|o| o.take_wait = Duration::from_millis(500))
        .build()
        .unwrap();
    let base = serve(rt).await;
    let proxy = slow_proxy(base, delay).await;
    let v2 = format!("{proxy}/v2/ticks");
    let mut cmd = Command::new(APP);
    cmd.args(["worker"])
        .env("ENDPOINT_NAME", "ticks")
        .env("RUNPOD_POD_ID", "bench-stream")
        .env("RUNPOD_WEBHOOK_GET_JOB", format!("{v2}/job-take/$ID"))
        .env(
            "RUNPOD_WEBHOOK_POST_OUTPUT",
            format!("{v2}/job-done/$RUNPOD_POD_ID/$ID"),
        )
        .env(
            "RUNPOD_WEBHOOK_POST_STREAM",
            format!("{v2}/job-stream/$RUNPOD_POD_ID/$ID"),
        )
        .env("RUNPOD_WEBHOOK_PING", format!("{v2}/ping/$RUNPOD_POD_ID"))
        .env("RUST_LOG", "warn");
    let _worker = Proc::spawn(cmd, "stream-worker");
    let reader = Client::http(HttpRoutes::new(format!("{proxy}/v2")));
    flood(ticks::stream(&reader, n, false), n).await
}

/// The latency runs on the runtime they are called in: each floor, then ours; prints their
/// table and returns the p50 ratio of the typed HTTP stream to the long-poll floor.
async fn latencies(title: &str, samples: u32) -> String {
    let http = reqwest::Client::new();
    let local = LocalRuntime::builder()
        .endpoint::<ticks>()
        .endpoint::<ticks_relay>()
        .build()
        .expect("a runtime");
    let inproc = local.client();
    let v2 = format!("{}/v2", serve(local.clone()).await);
    let remote = Client::http(HttpRoutes::new(v2.clone()));

    let chan = channel_floor(samples).await;
    let ours_local = paced(ticks::stream(&inproc, samples, true)).await;
    let poll = long_poll_floor(&http, samples).await;
    let ours_http = paced(ticks::stream(&remote, samples, true)).await;
    let bare_reader = bare_reader_of_ours(&http, &v2, &remote, samples).await;
    let relay_http = paced(ticks_relay::stream(&remote, samples, true)).await;
    local.shutdown();

    let mut t = Table::new(title, &["what", "p50", "p99", "p50 vs its floor"]);
    let row = |t: &mut Table, what: &str, l: &Latencies, floor: Option<&Latencies>| {
        t.row(vec![
            what.into(),
            fmt_duration(l.q(0.5)),
            fmt_duration(l.q(0.99)),
            floor.map_or(String::new(), |f| {
                ratio(l.q(0.5).as_secs_f64(), f.q(0.5).as_secs_f64())
            }),
        ]);
    };
    row(&mut t, "floor: a bare channel", &chan, None);
    row(&mut t, "typed stream, in-process", &ours_local, Some(&chan));
    let floor = "floor: a bare HTTP long poll (reqwest → axum)";
    row(&mut t, floor, &poll, None);
    let typed = "typed stream, HTTP (loopback, app dev)";
    row(&mut t, typed, &ours_http, Some(&poll));
    let bare = "app dev's /stream read by a bare reqwest loop";
    row(&mut t, bare, &bare_reader, Some(&poll));
    let relay = "typed stream through a relay, HTTP";
    row(&mut t, relay, &relay_http, Some(&poll));
    t.print();
    ratio(ours_http.q(0.5).as_secs_f64(), poll.q(0.5).as_secs_f64())
}

/// Chunks/s through one stream and through a relay, in process and over HTTP, and from a worker
/// process behind a slow network.
async fn throughput(chunks: u32) {
    let local = LocalRuntime::builder()
        .endpoint::<ticks>()
        .endpoint::<ticks_relay>()
        .build()
        .expect("a runtime");
    let inproc = local.client();
    let remote = Client::http(HttpRoutes::new(format!(
        "{}/v2",
        serve(local.clone()).await
    )));
    let one_local = flood(ticks::stream(&inproc, chunks, false), chunks).await;
    let one_http = flood(ticks::stream(&remote, chunks, false), chunks).await;
    let relay_local = flood(ticks_relay::stream(&inproc, chunks, false), chunks).await;
    let relay_http = flood(ticks_relay::stream(&remote, chunks, false), chunks).await;
    let slow = through_slow_network(chunks / 4, Duration::from_millis(20)).await;

    let mut t = Table::new(
        "Chunks per second through one stream, read as fast as they come",
        &["what", "chunks/s", "goal"],
    );
    let goal = |v: f64, min: f64| format!("≥ {min:.0}: {}", verdict(v >= min));
    let rows = [
        ("in-process", one_local, None),
        ("HTTP (loopback, app dev)", one_http, Some(10_000.0)),
        ("through a relay, in-process", relay_local, None),
        ("through a relay, HTTP", relay_http, None),
        (
            "worker process, 20 ms per request (posts and reads)",
            slow,
            Some(1_000.0),
        ),
    ];
    for (what, v, min) in rows {
        t.row(vec![
            what.into(),
            format!("{v:.0}"),
            min.map_or(String::new(), |m| goal(v, m)),
        ]);
    }
    t.print();
}

fn main() {
    let chunks = env_or("BENCH_CHUNKS", 20_000);
    let samples = env_or("BENCH_SAMPLES", 1_000);
    let _ = free_port;
    let _ = rustls::crypto::ring::default_provider().install_default();
    println!(
        "stream benchmark: {samples} latency samples, {chunks} chunks per throughput run; {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    // One thread: client, server and producer take turns, so the figures are the work each path
    // does (and loopback's system calls). Two threads: as `app dev` runs, plus the OS waking
    // threads, which on a small machine is most of the latency and varies run to run.
    let one = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime")
        .block_on(latencies(
            "From a chunk written to the reader yielding it, one thread (a chunk every ms)",
            samples,
        ));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    let two = rt.block_on(latencies(
        "The same on two threads (the OS's thread wake-ups included)",
        samples,
    ));
    rt.block_on(throughput(chunks));
    println!(
        "\nadded latency over HTTP (goal ≤ 1.5× the long-poll floor): {one} on one thread, {two} on two"
    );
}
