//! A fault-injecting HTTP proxy on loopback, between a client and a server: it forwards every
//! request, and for the ones its plan picks answers 502 (after forwarding, as a proxy that lost
//! the upstream's answer would), cuts the connection mid-response, or delays it.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use tokio::io::{AsyncRead, ReadBuf};

/// What the proxy does to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward it, then answer this status instead of the upstream's answer.
    Status(u16),
    /// Forward it, wait this long, then send the headers and break the body off.
    Cut(Duration),
    /// Answer this status without forwarding it, as a server that refuses the request would.
    Refuse(u16),
    /// Wait this long, then forward it: a network where each request costs a round trip.
    Delay(Duration),
}

/// Picks a fault for the `nth` (from 0) request of a route kind (`run`, `status-sync`, ..).
pub type Plan = Arc<dyn Fn(&str, usize) -> Option<Fault> + Send + Sync>;

/// Each request's route kind, in order, with the fault applied to it.
pub type Seen = Arc<Mutex<Vec<(String, Option<Fault>)>>>;

/// A running proxy.
pub struct FaultProxy {
    /// Its base URL (`http://127.0.0.1:port`).
    pub base: String,
    /// The route kind of every request it saw, in order, with the fault it applied.
    pub seen: Seen,
    /// Per route kind: requests in flight now, and the most at once.
    in_flight: InFlight,
}

type InFlight = Arc<Mutex<std::collections::HashMap<String, (usize, usize)>>>;

/// A request of a kind counted in flight until dropped.
struct Flying(InFlight, String);

impl Flying {
    fn start(all: &InFlight, kind: &str) -> Flying {
        let mut map = all.lock().unwrap();
        let (now, most) = map.entry(kind.to_string()).or_default();
        *now += 1;
        *most = (*most).max(*now);
        Flying(all.clone(), kind.to_string())
    }
}

impl Drop for Flying {
    fn drop(&mut self) {
        if let Some((now, _)) = self.0.lock().unwrap().get_mut(&self.1) {
            *now -= 1;
        }
    }
}

#[derive(Clone)]
struct Shared {
    upstream: String,
    http: reqwest::Client,
    plan: Plan,
    seen: Seen,
    in_flight: InFlight,
}

impl FaultProxy {
    /// Starts a proxy to `upstream` (a base URL) applying `plan`.
    pub async fn start(upstream: &str, plan: Plan) -> FaultProxy {
        let (seen, in_flight): (Seen, InFlight) = Default::default();
        let shared = Shared {
            upstream: upstream.trim_end_matches('/').to_string(),
            http: super::client(),
            plan,
            seen: Arc::clone(&seen),
            in_flight: Arc::clone(&in_flight),
        };
        let app = axum::Router::new().fallback(forward).with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        FaultProxy {
            base,
            seen,
            in_flight,
        }
    }

    /// A proxy to `upstream` that delays every request of route kind `kind` by `delay`.
    pub async fn delaying(upstream: &str, kind: &'static str, delay: Duration) -> FaultProxy {
        let plan: Plan = Arc::new(move |k: &str, _| (k == kind).then_some(Fault::Delay(delay)));
        FaultProxy::start(upstream, plan).await
    }

    /// The most requests of route kind `kind` it had in flight at once.
    pub fn most_at_once(&self, kind: &str) -> usize {
        self.in_flight.lock().unwrap().get(kind).map_or(0, |c| c.1)
    }

    /// How many requests of route kind `kind` it saw.
    pub fn count(&self, kind: &str) -> usize {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(k, _)| k == kind)
            .count()
    }
}

async fn forward(State(s): State<Shared>, req: Request) -> Response {
    let path = req
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    // /v2/{endpoint}/{kind}/..
    let kind = req.uri().path().split('/').nth(3).unwrap_or("").to_string();
    let _flying = Flying::start(&s.in_flight, &kind);
    let fault = {
        let mut seen = s.seen.lock().unwrap();
        let nth = seen.iter().filter(|(k, _)| *k == kind).count();
        let fault = (s.plan)(&kind, nth);
        seen.push((kind, fault));
        fault
    };
    let method = req.method().clone();
    let headers = req.headers().clone();
    let body = axum::body::to_bytes(req.into_body(), usize::MAX)
        .await
        .unwrap();
    let mut upstream = s
        .http
        .request(method, format!("{}{path}", s.upstream))
        .body(body);
    for name in [
        axum::http::header::CONTENT_TYPE,
        axum::http::header::AUTHORIZATION,
    ] {
        if let Some(v) = headers.get(&name) {
            upstream = upstream.header(name, v);
        }
    }
    let fault = match fault {
        Some(Fault::Delay(d)) => {
            tokio::time::sleep(d).await;
            None
        }
        other => other,
    };
    match fault {
        Some(Fault::Delay(_)) => unreachable!("delayed above"),
        Some(Fault::Cut(after)) => {
            // The upstream gets the request and works on it; the client's answer breaks off.
            tokio::spawn(async move { drop(upstream.send().await) });
            tokio::time::sleep(after).await;
            Response::new(Body::from_stream(tokio_util::io::ReaderStream::new(Broken)))
        }
        Some(Fault::Refuse(code)) => Response::builder()
            .status(code)
            .body(Body::from("refused by the fault proxy"))
            .unwrap(),
        Some(Fault::Status(code)) => {
            drop(upstream.send().await);
            Response::builder()
                .status(code)
                .body(Body::from("injected by the fault proxy"))
                .unwrap()
        }
        None => match upstream.send().await {
            Ok(resp) => {
                let status = resp.status();
                let bytes = resp.bytes().await.unwrap_or_else(|_| Bytes::new());
                Response::builder()
                    .status(status)
                    .header(axum::http::header::CONTENT_TYPE, "application/json")
                    .body(Body::from(bytes))
                    .unwrap()
            }
            Err(e) => Response::builder()
                .status(502)
                .body(Body::from(format!(
                    "the proxy could not reach upstream: {e}"
                )))
                .unwrap(),
        },
    }
}

/// A reader that fails at once: the response body breaks off after its headers.
struct Broken;

impl AsyncRead for Broken {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Poll::Ready(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "the fault proxy cut the connection",
        )))
    }
}
