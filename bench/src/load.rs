//! The load generator: `concurrency` clients, each with one keep-alive HTTP/1.1 connection,
//! each sending its next request as soon as the previous answer is read (a closed loop, as wrk
//! does). The same generator measures every server, so their figures compare.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{CONTENT_TYPE, HOST};
use hyper_util::rt::TokioIo;

/// What one load run measured.
#[derive(Debug, Clone)]
pub struct LoadResult {
    /// Clients (connections).
    pub concurrency: usize,
    /// The measured window.
    pub window: Duration,
    /// Latencies of the requests that started and ended inside the window, sorted.
    pub latencies: Vec<Duration>,
    /// Requests in the window that failed (transport error, not 200, or not `COMPLETED`).
    pub errors: u64,
}

impl LoadResult {
    /// Completed requests per second.
    pub fn rps(&self) -> f64 {
        self.latencies.len() as f64 / self.window.as_secs_f64()
    }

    /// A latency quantile.
    pub fn latency(&self, p: f64) -> Duration {
        crate::report::quantile(&self.latencies, p).unwrap_or_default()
    }
}

/// Sends POST `path` with `body` to `addr` from `concurrency` clients for `warmup + window`;
/// measures the window. A response counts as a success when it is a 200 whose body contains
/// `expect`.
pub async fn closed_loop(
    addr: SocketAddr,
    path: &str,
    body: &'static str,
    expect: &'static str,
    concurrency: usize,
    warmup: Duration,
    window: Duration,
) -> LoadResult {
    let start = Instant::now() + warmup;
    let end = start + window;
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let path = path.to_string();
        tasks.push(tokio::spawn(client(addr, path, body, expect, start, end)));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.expect("a load client does not panic");
        latencies.extend(l);
        errors += e;
    }
    latencies.sort();
    LoadResult {
        concurrency,
        window,
        latencies,
        errors,
    }
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn connect(addr: SocketAddr) -> std::io::Result<Sender> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(std::io::Error::other)?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

async fn client(
    addr: SocketAddr,
    path: String,
    body: &'static str,
    expect: &'static str,
    start: Instant,
    end: Instant,
) -> (Vec<Duration>, u64) {
    let host = addr.to_string();
    let body = Bytes::from_static(body.as_bytes());
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut sender: Option<Sender> = None;
    while Instant::now() < end {
        let t = Instant::now();
        let s = match &mut sender {
            Some(s) => s,
            None => match connect(addr).await {
                Ok(s) => sender.insert(s),
                Err(_) => {
                    if t >= start {
                        errors += 1;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let req = hyper::Request::post(path.as_str())
            .header(HOST, host.as_str())
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(body.clone()))
            .expect("a static request is valid");
        let ok = match s.send_request(req).await {
            Ok(resp) => {
                let status = resp.status();
                match resp.into_body().collect().await {
                    Ok(b) => status == 200 && contains(&b.to_bytes(), expect.as_bytes()),
                    Err(_) => {
                        sender = None;
                        false
                    }
                }
            }
            Err(_) => {
                sender = None;
                false
            }
        };
        let done = Instant::now();
        if t >= start && done <= end {
            if ok {
                latencies.push(done - t);
            } else {
                errors += 1;
            }
        }
    }
    (latencies, errors)
}
