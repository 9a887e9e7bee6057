//! The simulator is honest about load-balancing endpoints too: one scenario of conversations
//! run by the simulator and by the local runtime's balancer itself (a real axum app per
//! worker, requests through `LocalRuntime::request`, the client echoing `X-Runpod-Worker-Id`),
//! on tokio's paused clock. The app sleeps exactly the draws the simulator makes and hangs when
//! it makes it hang; the client pauses the drawn think times. Both must end the same turns the
//! same way, start the same workers, and agree on latency within the stated tolerance (p50,
//! p95, p99 within 2 % or 100 ms).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tokio::sync::broadcast;
use tokio::time::Instant;

use super::engine::mix;
use super::honest::service;
use super::{Scenario, draw, simulate, traffic};
use crate::local::{LocalRuntime, RuntimeEvent, RuntimeOptions};
use crate::protocol::load_balancer::WORKER_ID_HEADER;
use crate::{EndpointDef, endpoint};

const SEED: u64 = 23;
const TURNS: u32 = 4;
const TURN_P50_MS: u64 = 1_500;
const TURN_P99_MS: u64 = 8_000;
const THINK_P50_MS: u64 = 10_000;
const THINK_P99_MS: u64 = 40_000;
const HANG: f64 = 0.02;
const COLD_START_S: u64 = 10;

fn scenario() -> Scenario {
    Scenario::parse(&format!(
        r#"
        duration = "15m"
        seed = {SEED}
        cold_at_start = true
        traffic = {{ endpoint = "honest-chat", pattern = "poisson", rate = 0.1 }}
        cold_start = {{ cpu = "{COLD_START_S}s", cpu_flashboot = "{COLD_START_S}s" }}
        [endpoints.honest-chat]
        service = {{ p50 = "{TURN_P50_MS}ms", p99 = "{TURN_P99_MS}ms" }}
        turns = {TURNS}
        think = {{ p50 = "{THINK_P50_MS}ms", p99 = "{THINK_P99_MS}ms" }}
        affinity = "prefer"
        hang = {HANG}
        "#
    ))
    .unwrap()
}

/// A turn: the body is the state of the generator the simulator gives this request; the app
/// replays its draws.
#[endpoint(
    name = "honest-chat",
    cpu = "cpu3c-2-4",
    workers = (0, 4),
    scaler = request_count(2),
    idle_timeout = 20,
    execution_timeout_ms = 30_000
)]
fn honest_chat() -> axum::Router {
    axum::Router::new().route(
        "/turn",
        axum::routing::post(|body: String| async move {
            let mut rng = fastrand::Rng::with_seed(body.trim().parse().unwrap());
            let (hang, _fail) = (rng.f64() < HANG, rng.f64());
            if hang {
                std::future::pending::<()>().await;
            }
            let turn = draw::service(&mut rng, &service(TURN_P50_MS, TURN_P99_MS));
            tokio::time::sleep(turn).await;
            "ok"
        }),
    )
}

/// What the balancer did: each turn's latency, how turns ended, workers started.
#[derive(Default)]
struct Real {
    latencies_ms: Vec<f64>,
    completed: u64,
    timed_out: u64,
    refused: u64,
}

/// One conversation, as a client that echoes the worker id does.
async fn converse(rt: Arc<LocalRuntime>, index: u64, out: Arc<Mutex<Real>>) {
    let mut rng = fastrand::Rng::with_seed(mix(SEED, index));
    let mut pin: Option<String> = None;
    for _ in 0..TURNS {
        let mut next = fastrand::Rng::with_seed(rng.u64(..));
        let mut req = Request::post("/turn")
            .body(Body::from(rng.get_seed().to_string()))
            .unwrap();
        if let Some(p) = &pin {
            req.headers_mut()
                .insert(WORKER_ID_HEADER, p.parse().unwrap());
        }
        let t = Instant::now();
        let resp = rt.request("honest-chat", req).await.unwrap();
        let status = resp.status();
        pin = resp
            .headers()
            .get(WORKER_ID_HEADER)
            .map(|v| v.to_str().unwrap().to_string());
        let _ = axum::body::to_bytes(resp.into_body(), usize::MAX).await;
        let ms = t.elapsed().as_secs_f64() * 1e3;
        let refused = {
            let mut o = out.lock().unwrap();
            o.latencies_ms.push(ms);
            match status {
                StatusCode::OK => o.completed += 1,
                s if s.as_u16() == 524 => o.timed_out += 1,
                _ => o.refused += 1,
            }
            !(status == StatusCode::OK || status.as_u16() == 524)
        };
        if refused {
            return; // the balancer's refusal ends the conversation
        }
        let think = draw::service(&mut next, &service(THINK_P50_MS, THINK_P99_MS));
        tokio::time::sleep(think).await;
        rng = next;
    }
}

async fn run_for_real(scenario: &Scenario) -> (Real, u64) {
    let options = RuntimeOptions {
        cold_start: Duration::from_secs(COLD_START_S),
        ..RuntimeOptions::default()
    };
    let rt = Arc::new(
        LocalRuntime::builder()
            .definition(EndpointDef::app_of::<honest_chat>())
            .options(options)
            .build()
            .unwrap(),
    );
    let mut events = rt.events();
    let started = tokio::spawn(async move {
        let mut n = 0;
        loop {
            match events.recv().await {
                Ok(RuntimeEvent::WorkerStarting { .. }) => n += 1,
                Ok(_) => {}
                Err(broadcast::error::RecvError::Closed) => return n,
                Err(e) => panic!("the test missed runtime events: {e}"),
            }
        }
    });
    let t0 = Instant::now();
    let out = Arc::new(Mutex::new(Real::default()));
    let arrivals =
        traffic::Arrivals::new(&scenario.traffic, scenario.duration.0, scenario.seed).unwrap();
    let mut tasks = Vec::new();
    for (index, at) in arrivals.enumerate() {
        let (rt, out) = (rt.clone(), out.clone());
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(t0 + at).await;
            converse(rt, index as u64, out).await;
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    rt.shutdown();
    drop(rt);
    let started = tokio::time::timeout(Duration::from_secs(5), started)
        .await
        .map_or(0, |r| r.unwrap());
    let real = std::mem::take(&mut *out.lock().unwrap());
    (real, started)
}

#[tokio::test(start_paused = true)]
async fn the_simulator_and_the_local_balancer_agree_on_the_same_conversations() {
    let scenario = scenario();
    let configs = vec![EndpointDef::app_of::<honest_chat>().config];
    let report = simulate("honest", &configs, &scenario).unwrap();
    let sim = &report.variants[0];
    let (real, started) = run_for_real(&scenario).await;

    let q = &sim.requests;
    assert!(q.arrived > 250, "{q:?}");
    assert_eq!(real.latencies_ms.len() as u64, q.arrived, "turns");
    assert_eq!(real.completed, q.ends.completed);
    assert!(q.ends.timed_out > 0, "the scenario makes turns hang");
    assert_eq!(real.timed_out, q.ends.timed_out);
    assert_eq!(real.refused, q.rejected);
    assert_eq!(started, sim.endpoints[0].cold_starts, "workers started");
    super::honest::within_tolerance("latency", real.latencies_ms, &q.latency);
}
