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
use endpoint_bench::endpoints::{Tick, ack, stamp, ticks, ticks_relay};
use endpoint_bench::proc::{Proc, free_port};
use endpoint_bench::report::{Table, fmt_duration, quantile, ratio, verdict};
use endpoint_sdk::client::{CallStream, Client, HttpRoutes};
use endpoint_sdk::local::LocalRuntime;
use tokio::sync::Notify;

const APP: &str = env!("CARGO_BIN_EXE_bench-app");

/// How long after a reader asks for the next value it is written, in the latency runs: enough
/// for the read to reach the server and wait there.
const WRITE_AFTER: Duration = Duration::from_micros(200);

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

/// A paced stream read to its end: each chunk's latency, acknowledged so the next is written.
async fn paced<E>(mut s: CallStream<E>) -> Latencies
where
    E: endpoint_sdk::Endpoint<Chunk = Tick>,
    E::Error: std::fmt::Debug,
{
    let mut out = Vec::new();
    while let Some(t) = s.next().await {
        out.push(since(t.expect("a chunk").at_ns));
        // The next chunk is written once this reader is waiting again, as the long-poll floor's
        // value is: both then measure the same leg, from the write to the waiting reader.
        tokio::spawn(async {
            tokio::time::sleep(WRITE_AFTER).await;
            ack().notify_one();
        });
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

/// Floor: a value sent on a channel, measured when received.
async fn channel_floor(samples: u32) -> Latencies {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
    let go = Arc::new(Notify::new());
    let writer = {
        let go = go.clone();
        tokio::spawn(async move {
            for _ in 0..samples {
                tx.send(stamp()).unwrap();
                go.notified().await;
            }
        })
    };
    let mut out = Vec::new();
    while let Some(at) = rx.recv().await {
        out.push(since(at));
        go.notify_one();
    }
    writer.await.unwrap();
    Latencies::new(out)
}

/// The long-poll floor's shared slot: a value, and the reader waiting for it.
#[derive(Default)]
struct Slot {
    value: Mutex<Option<u64>>,
    written: Notify,
}

async fn long_poll(State(slot): State<Arc<Slot>>) -> String {
    loop {
        let written = slot.written.notified();
        tokio::pin!(written);
        written.as_mut().enable();
        if let Some(v) = slot.value.lock().unwrap().take() {
            return v.to_string();
        }
        written.await;
    }
}

/// Floor: a value written on the server side, read by a client's long poll over loopback.
async fn long_poll_floor(http: &reqwest::Client, samples: u32) -> Latencies {
    let slot = Arc::new(Slot::default());
    let app = axum::Router::new()
        .route("/poll", axum::routing::get(long_poll))
        .with_state(slot.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/poll", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let mut out = Vec::new();
    for _ in 0..samples {
        let read = http.get(&url).send();
        let writer = {
            let slot = slot.clone();
            tokio::spawn(async move {
                // Written once the reader is waiting, as a chunk would be.
                tokio::time::sleep(WRITE_AFTER).await;
                *slot.value.lock().unwrap() = Some(stamp());
                slot.written.notify_one();
            })
        };
        let at: u64 = read.await.unwrap().text().await.unwrap().parse().unwrap();
        out.push(since(at));
        writer.await.unwrap();
    }
    server.abort();
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

fn main() {
    let chunks = env_or("BENCH_CHUNKS", 20_000);
    let samples = env_or("BENCH_SAMPLES", 1_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    let _ = free_port;
    println!(
        "stream benchmark: {samples} latency samples, {chunks} chunks per throughput run; {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    rt.block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::new();
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

        let chan = channel_floor(samples).await;
        let poll = long_poll_floor(&http, samples).await;
        let ours_local = paced(ticks::stream(&inproc, samples, true)).await;
        let ours_http = paced(ticks::stream(&remote, samples, true)).await;
        let relay_http = paced(ticks_relay::stream(&remote, samples, true)).await;

        let mut t = Table::new(
            "From a chunk written to the reader yielding it (one chunk in flight at a time)",
            &["what", "p50", "p99", "p50 vs its floor"],
        );
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
        row(
            &mut t,
            "floor: a bare HTTP long poll (reqwest → axum)",
            &poll,
            None,
        );
        row(
            &mut t,
            "typed stream, HTTP (loopback, app dev)",
            &ours_http,
            Some(&poll),
        );
        row(
            &mut t,
            "typed stream through a relay, HTTP",
            &relay_http,
            Some(&poll),
        );
        t.print();

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
        t.row(vec![
            "in-process".into(),
            format!("{one_local:.0}"),
            String::new(),
        ]);
        t.row(vec![
            "HTTP (loopback, app dev)".into(),
            format!("{one_http:.0}"),
            goal(one_http, 10_000.0),
        ]);
        t.row(vec![
            "through a relay, in-process".into(),
            format!("{relay_local:.0}"),
            String::new(),
        ]);
        t.row(vec![
            "through a relay, HTTP".into(),
            format!("{relay_http:.0}"),
            String::new(),
        ]);
        t.row(vec![
            "worker process, 20 ms per request (posts and reads)".into(),
            format!("{slow:.0}"),
            goal(slow, 1_000.0),
        ]);
        t.print();
        let added = ratio(ours_http.q(0.5).as_secs_f64(), poll.q(0.5).as_secs_f64());
        println!("\nadded latency over HTTP: {added} the long-poll floor (goal ≤ 1.5×)");
    });
}
