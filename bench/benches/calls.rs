//! Typed calls (issue 5.8): the per-call overhead of `noop::call` through the in-process
//! transport (a local runtime in this process) and over loopback HTTP (`bench-app dev` in
//! another process), against two floors measured here: a direct call of the same function, and
//! a bare HTTP round trip (reqwest, as the SDK uses, against a bare axum echo route in another
//! process). Then a fan-out of 1 000 no-op calls end to end, through both transports, against
//! 1 000 bare HTTP round trips with the same bound on requests in flight.
//!
//! `cargo bench -p endpoint-bench --bench calls`; `BENCH_SECONDS` sets each sequential window.

use std::hint::black_box;
use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use endpoint_bench::endpoints::noop;
use endpoint_bench::proc::{Proc, free_port};
use endpoint_bench::report::{Table, fmt_duration, median, quantile, ratio};
use endpoint_sdk::client::{Client, DEFAULT_CONCURRENCY, HttpRoutes};
use endpoint_sdk::local::LocalRuntime;

const APP: &str = env!("CARGO_BIN_EXE_bench-app");
const FAN_OUT: u64 = 1_000;

/// Latencies of calls made one after another for `window`.
struct Sequential {
    latencies: Vec<Duration>,
    window: Duration,
}

impl Sequential {
    fn mean(&self) -> Duration {
        self.window / self.latencies.len().max(1) as u32
    }

    fn q(&self, p: f64) -> Duration {
        quantile(&self.latencies, p).unwrap_or_default()
    }
}

async fn sequential<F, Fut>(window: Duration, mut one: F) -> Sequential
where
    F: FnMut(u64) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    // Warm-up: connections, the runtime's first worker, caches.
    let warm = Instant::now() + window / 5;
    let mut i = 0;
    while Instant::now() < warm {
        one(i).await;
        i += 1;
    }
    let start = Instant::now();
    let end = start + window;
    let mut latencies = Vec::new();
    while Instant::now() < end {
        let t = Instant::now();
        one(i).await;
        latencies.push(t.elapsed());
        i += 1;
    }
    let window = start.elapsed();
    latencies.sort();
    Sequential { latencies, window }
}

/// Latencies of calls made by `callers` tasks at once, each calling again as soon as its
/// previous call returns, for `window`.
async fn concurrent<F, Fut>(callers: usize, window: Duration, one: F) -> Sequential
where
    F: Fn(u64) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let start = Instant::now() + window / 5;
    let end = start + window;
    let mut tasks = Vec::new();
    for c in 0..callers as u64 {
        let one = one.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut i = c << 32;
            while Instant::now() < end {
                let t = Instant::now();
                one(i).await;
                if t >= start {
                    latencies.push(t.elapsed());
                }
                i += 1;
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.expect("a caller does not panic"));
    }
    latencies.sort();
    Sequential { latencies, window }
}

async fn wait_ready(proc: &mut Proc, http: &reqwest::Client, url: &str) {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = http.get(url).send().await
            && r.status().as_u16() < 500
        {
            return;
        }
        assert!(
            proc.running() && Instant::now() < until,
            "the server never answered {url}\n{}",
            proc.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A bare HTTP round trip: POST the floor's echo route, read the answer.
async fn bare_round_trip(http: &reqwest::Client, url: &str, i: u64) {
    let r = http
        .post(url)
        .json(&serde_json::json!({ "input": i }))
        .send()
        .await
        .expect("the floor server answers");
    assert!(r.status().is_success());
    let v: serde_json::Value = r.json().await.expect("JSON");
    assert_eq!(v["output"], i);
}

/// Runs `FAN_OUT` bare round trips with at most `DEFAULT_CONCURRENCY` in flight.
async fn bare_fan_out(http: &reqwest::Client, url: &str) -> Duration {
    let start = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    let mut next = 0;
    while next < FAN_OUT.min(DEFAULT_CONCURRENCY as u64) {
        let (h, u) = (http.clone(), url.to_string());
        set.spawn(async move { bare_round_trip(&h, &u, next).await });
        next += 1;
    }
    while let Some(r) = set.join_next().await {
        r.expect("a round trip does not panic");
        if next < FAN_OUT {
            let (h, u) = (http.clone(), url.to_string());
            let i = next;
            set.spawn(async move { bare_round_trip(&h, &u, i).await });
            next += 1;
        }
    }
    start.elapsed()
}

/// A typed fan-out of `FAN_OUT` no-op calls; checks every result.
async fn typed_fan_out(client: &Client) -> Duration {
    let start = Instant::now();
    let results = noop::fan_out(client, 0..FAN_OUT).await;
    let took = start.elapsed();
    assert_eq!(results.len() as u64, FAN_OUT);
    for (i, r) in results.into_iter().enumerate() {
        assert_eq!(r.expect("a no-op call succeeds"), i as u64);
    }
    took
}

fn main() {
    let window = Duration::from_secs(
        std::env::var("BENCH_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(3),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    println!(
        "typed calls benchmark: {} s per sequential series, fan-out of {FAN_OUT} (at most {DEFAULT_CONCURRENCY} in flight); {} cores",
        window.as_secs(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    rt.block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::new();

        // Floor 1: a direct call of the handler function.
        let n = 2_000_000u64;
        let start = Instant::now();
        for i in 0..n {
            black_box(noop(black_box(i)).await);
        }
        let direct = start.elapsed() / n as u32;

        // In-process transport.
        let local_rt = LocalRuntime::builder()
            .endpoint::<noop>()
            .build()
            .expect("a runtime");
        let local = local_rt.client();
        let local_seq = sequential(window, |i| {
            let c = local.clone();
            async move {
                assert_eq!(noop::call(&c, i).await.expect("a no-op call"), i);
            }
        })
        .await;
        let mut local_fan = Vec::new();
        for _ in 0..5 {
            local_fan.push(typed_fan_out(&local).await);
        }
        let c = local.clone();
        let local_conc = concurrent(DEFAULT_CONCURRENCY, window, move |i| {
            let c = c.clone();
            async move {
                assert_eq!(noop::call(&c, i).await.expect("a no-op call"), i);
            }
        })
        .await;

        // Loopback HTTP: our dev server and the bare floor, each in its own process.
        let dev_port = free_port();
        let mut cmd = Command::new(APP);
        cmd.args(["dev", "--port", &dev_port.to_string()])
            .env("RUST_LOG", "warn");
        let mut dev = Proc::spawn(cmd, "ours-dev");
        let dev_addr: SocketAddr = ([127, 0, 0, 1], dev_port).into();
        wait_ready(&mut dev, &http, &format!("http://{dev_addr}/")).await;
        let remote = Client::http(HttpRoutes::new(format!("http://{dev_addr}/v2")));
        let http_seq = sequential(window, |i| {
            let c = remote.clone();
            async move {
                assert_eq!(noop::call(&c, i).await.expect("a no-op call"), i);
            }
        })
        .await;
        let mut http_fan = Vec::new();
        for _ in 0..3 {
            http_fan.push(typed_fan_out(&remote).await);
        }
        let c = remote.clone();
        let http_conc = concurrent(DEFAULT_CONCURRENCY, window, move |i| {
            let c = c.clone();
            async move {
                assert_eq!(noop::call(&c, i).await.expect("a no-op call"), i);
            }
        })
        .await;
        assert!(dev.running(), "the dev server died\n{}", dev.log_tail());
        drop(dev);

        let floor_port = free_port();
        let mut cmd = Command::new(APP);
        cmd.args(["floor", "--port", &floor_port.to_string()]);
        let mut floor = Proc::spawn(cmd, "axum-floor");
        let floor_url = format!("http://127.0.0.1:{floor_port}/v2/noop/runsync");
        wait_ready(&mut floor, &http, &format!("http://127.0.0.1:{floor_port}/")).await;
        let bare_seq = sequential(window, |i| {
            let (h, u) = (http.clone(), floor_url.clone());
            async move { bare_round_trip(&h, &u, i).await }
        })
        .await;
        let mut bare_fan = Vec::new();
        for _ in 0..3 {
            bare_fan.push(bare_fan_out(&http, &floor_url).await);
        }
        let (h, u) = (http.clone(), floor_url.clone());
        let bare_conc = concurrent(DEFAULT_CONCURRENCY, window, move |i| {
            let (h, u) = (h.clone(), u.clone());
            async move { bare_round_trip(&h, &u, i).await }
        })
        .await;
        drop(floor);

        let mut t = Table::new(
            "Per call, one after another (mean = window / calls)",
            &["what", "calls", "mean", "p50", "p99", "vs its floor"],
        );
        t.row(vec![
            "floor: direct call of the function".into(),
            n.to_string(),
            fmt_duration(direct),
            String::new(),
            String::new(),
            String::new(),
        ]);
        t.row(vec![
            "typed call, in-process transport".into(),
            local_seq.latencies.len().to_string(),
            fmt_duration(local_seq.mean()),
            fmt_duration(local_seq.q(0.5)),
            fmt_duration(local_seq.q(0.99)),
            format!(
                "{} the direct call",
                ratio(local_seq.mean().as_secs_f64(), direct.as_secs_f64())
            ),
        ]);
        t.row(vec![
            "floor: bare HTTP round trip (reqwest → axum)".into(),
            bare_seq.latencies.len().to_string(),
            fmt_duration(bare_seq.mean()),
            fmt_duration(bare_seq.q(0.5)),
            fmt_duration(bare_seq.q(0.99)),
            String::new(),
        ]);
        t.row(vec![
            "typed call, HTTP transport (loopback, app dev)".into(),
            http_seq.latencies.len().to_string(),
            fmt_duration(http_seq.mean()),
            fmt_duration(http_seq.q(0.5)),
            fmt_duration(http_seq.q(0.99)),
            format!(
                "{} the bare round trip",
                ratio(http_seq.mean().as_secs_f64(), bare_seq.mean().as_secs_f64())
            ),
        ]);
        t.print();

        let mut t = Table::new(
            &format!(
                "{DEFAULT_CONCURRENCY} callers at once, each calling again as soon as its call returns"
            ),
            &["what", "calls/s", "p50", "p99", "max", "p50 vs bare HTTP"],
        );
        for (what, r) in [
            ("typed call, in-process transport", &local_conc),
            ("floor: bare HTTP round trip (reqwest → axum)", &bare_conc),
            ("typed call, HTTP transport (loopback, app dev)", &http_conc),
        ] {
            t.row(vec![
                what.into(),
                format!("{:.0}", r.latencies.len() as f64 / r.window.as_secs_f64()),
                fmt_duration(r.q(0.5)),
                fmt_duration(r.q(0.99)),
                fmt_duration(r.q(1.0)),
                ratio(r.q(0.5).as_secs_f64(), bare_conc.q(0.5).as_secs_f64()),
            ]);
        }
        t.print();

        let per_item = |d: Duration| fmt_duration(d / FAN_OUT as u32);
        let (lf, hf, bf) = (
            median(&local_fan).unwrap_or_default(),
            median(&http_fan).unwrap_or_default(),
            median(&bare_fan).unwrap_or_default(),
        );
        let mut t = Table::new(
            &format!(
                "Fan-out of {FAN_OUT} no-op calls end to end (median of runs; at most {DEFAULT_CONCURRENCY} in flight)"
            ),
            &["what", "runs", "total", "per item", "vs sequential calls", "vs bare HTTP fan-out"],
        );
        t.row(vec![
            "typed fan-out, in-process".into(),
            local_fan.len().to_string(),
            fmt_duration(lf),
            per_item(lf),
            format!(
                "{} faster",
                ratio((local_seq.mean() * FAN_OUT as u32).as_secs_f64(), lf.as_secs_f64())
            ),
            ratio(lf.as_secs_f64(), bf.as_secs_f64()),
        ]);
        t.row(vec![
            "typed fan-out, HTTP (loopback)".into(),
            http_fan.len().to_string(),
            fmt_duration(hf),
            per_item(hf),
            format!(
                "{} faster",
                ratio((http_seq.mean() * FAN_OUT as u32).as_secs_f64(), hf.as_secs_f64())
            ),
            ratio(hf.as_secs_f64(), bf.as_secs_f64()),
        ]);
        t.row(vec![
            "floor: bare HTTP requests, same bound".into(),
            bare_fan.len().to_string(),
            fmt_duration(bf),
            per_item(bf),
            format!(
                "{} faster",
                ratio((bare_seq.mean() * FAN_OUT as u32).as_secs_f64(), bf.as_secs_f64())
            ),
            "1.00×".into(),
        ]);
        t.print();
        local_rt.shutdown();
    });
}
