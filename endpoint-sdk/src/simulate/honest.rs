//! The simulator is honest: one short scenario run by the simulator and by the local runtime
//! itself (`app dev`'s: real handlers, real calls between endpoints, simulated workers with
//! their cold starts), on tokio's paused clock. The handlers sleep exactly the service times
//! the simulator draws (the same seeded draws, in the same order), hang when it makes them
//! hang, and call the same callees; the arrivals are the scenario's. Both runs must end the
//! same requests the same way, start the same workers, and give request latencies that agree.
//!
//! The stated tolerance: each of p50, p95 and p99 of the requests' latency and of their queue
//! delay, within 2 % or 100 ms of the runtime's (the simulator's histograms have 1 % buckets;
//! the runtime adds a few milliseconds per call for its tasks to run).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::broadcast;
use tokio::time::Instant;

use super::engine::mix;
use super::scenario::{Service, Span};
use super::{Scenario, draw, simulate, traffic};
use crate::local::{LocalRuntime, RuntimeEvent, RuntimeOptions};
use crate::{Ctx, EndpointDef, JobStatus, NoError, endpoint};

const SEED: u64 = 11;
const TOP_P50_MS: u64 = 2_000;
const TOP_P99_MS: u64 = 9_000;
const LEAF_P50_MS: u64 = 800;
const LEAF_P99_MS: u64 = 5_000;
const LEAF_HANG: f64 = 0.03;
const COLD_START_S: u64 = 10;

/// A log-normal service time from its p50 and p99, in ms.
pub(super) fn service(p50: u64, p99: u64) -> Service {
    Service::Percentiles {
        p50: Span(Duration::from_millis(p50)),
        p99: Span(Duration::from_millis(p99)),
    }
}

fn scenario() -> Scenario {
    Scenario::parse(&format!(
        r#"
        duration = "15m"
        seed = {SEED}
        traffic = {{ endpoint = "honest-top", pattern = "poisson", rate = 0.4 }}
        cold_start = {{ cpu = "{COLD_START_S}s", cpu_flashboot = "{COLD_START_S}s" }}
        cold_at_start = true
        [endpoints.honest-top]
        service = {{ p50 = "{TOP_P50_MS}ms", p99 = "{TOP_P99_MS}ms" }}
        calls = [{{ to = "honest-leaf", count = 2 }}]
        [endpoints.honest-leaf]
        service = {{ p50 = "{LEAF_P50_MS}ms", p99 = "{LEAF_P99_MS}ms" }}
        hang = {LEAF_HANG}
        "#
    ))
    .unwrap()
}

/// The request: the seed the simulator gives request `index`; the job replays its draws.
#[endpoint(
    name = "honest-top",
    cpu = "cpu3c-2-4",
    workers = (1, 6),
    idle_timeout = 20,
    execution_timeout_ms = 60_000,
    calls = [honest_leaf]
)]
async fn honest_top(ctx: Ctx, seed: u64) -> Result<usize, NoError> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let (_hang, _fail) = (rng.f64(), rng.f64());
    let seeds: Vec<u64> = (0..2).map(|_| rng.u64(..)).collect();
    let answered = honest_leaf::fan_out(&ctx, seeds).concurrency(2).await;
    tokio::time::sleep(draw::service(&mut rng, &service(TOP_P50_MS, TOP_P99_MS))).await;
    Ok(answered.iter().filter(|r| r.is_ok()).count())
}

/// A call: works its drawn time, or hangs until its ceiling ends it.
#[endpoint(
    name = "honest-leaf",
    cpu = "cpu3c-2-4",
    workers = (0, 4),
    concurrency = 2,
    scaler = request_count(2),
    execution_timeout_ms = 20_000
)]
async fn honest_leaf(seed: u64) -> Result<(), NoError> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let (hang, _fail) = (rng.f64() < LEAF_HANG, rng.f64());
    if hang {
        std::future::pending::<()>().await;
    }
    tokio::time::sleep(draw::service(&mut rng, &service(LEAF_P50_MS, LEAF_P99_MS))).await;
    Ok(())
}

fn configs() -> Vec<crate::config::EndpointConfig> {
    vec![
        EndpointDef::of::<honest_top>().config,
        EndpointDef::of::<honest_leaf>().config,
    ]
}

/// What the runtime did: each request's latency and status, and workers started per endpoint.
struct Real {
    latencies_ms: Vec<f64>,
    delays_ms: Vec<f64>,
    completed: usize,
    started: [u64; 2],
    leaf_timed_out: u64,
}

async fn run_for_real(scenario: &Scenario) -> Real {
    let options = RuntimeOptions {
        cold_start: Duration::from_secs(COLD_START_S),
        ..RuntimeOptions::default()
    };
    let rt = Arc::new(
        LocalRuntime::builder()
            .endpoint::<honest_top>()
            .endpoint::<honest_leaf>()
            .options(options)
            .build()
            .unwrap(),
    );
    let mut events = rt.events();
    let counted = tokio::spawn(async move {
        let (mut started, mut leaf_timed_out) = ([0u64; 2], 0);
        loop {
            let e = match events.recv().await {
                Ok(e) => e,
                Err(broadcast::error::RecvError::Closed) => break,
                Err(e) => panic!("the test missed runtime events: {e}"),
            };
            match e {
                RuntimeEvent::WorkerStarting { endpoint, .. } => {
                    started[usize::from(&*endpoint == "honest-leaf")] += 1;
                }
                RuntimeEvent::JobFinished {
                    endpoint, status, ..
                } if &*endpoint == "honest-leaf" && status == JobStatus::TimedOut => {
                    leaf_timed_out += 1;
                }
                _ => {}
            }
        }
        (started, leaf_timed_out)
    });
    let t0 = Instant::now();
    let ends = Arc::new(Mutex::new(Vec::new()));
    let arrivals =
        traffic::Arrivals::new(&scenario.traffic, scenario.duration.0, scenario.seed).unwrap();
    let mut tasks = Vec::new();
    for (index, at) in arrivals.enumerate() {
        let (rt, ends) = (rt.clone(), ends.clone());
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(t0 + at).await;
            let seed = serde_json::json!(mix(SEED, index as u64));
            let id = rt.submit("honest-top", seed.into()).unwrap();
            let st = rt
                .wait("honest-top", &id, Duration::from_secs(3600))
                .await
                .unwrap();
            let ms = (Instant::now() - (t0 + at)).as_secs_f64() * 1e3;
            let delay = st.delay_time.unwrap_or_default() as f64;
            ends.lock().unwrap().push((ms, delay, st.status));
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    // Let the idle workers stop, then close the runtime so the event count ends.
    tokio::time::sleep(Duration::from_secs(60)).await;
    drop(rt);
    let (started, leaf_timed_out) = tokio::time::timeout(Duration::from_secs(5), counted)
        .await
        .map_or(([0, 0], 0), |r| r.unwrap());
    let ends = ends.lock().unwrap();
    Real {
        latencies_ms: ends.iter().map(|e| e.0).collect(),
        delays_ms: ends.iter().map(|e| e.1).collect(),
        completed: ends.iter().filter(|e| e.2 == JobStatus::Completed).count(),
        started,
        leaf_timed_out,
    }
}

#[tokio::test(start_paused = true)]
async fn the_simulator_and_the_local_runtime_agree_on_the_same_scenario() {
    let scenario = scenario();
    let report = simulate("honest", &configs(), &scenario).unwrap();
    let sim = &report.variants[0];
    let real = run_for_real(&scenario).await;

    // The same requests, ended the same way.
    assert!(sim.requests.arrived > 300, "{}", sim.requests.arrived);
    assert_eq!(real.latencies_ms.len() as u64, sim.requests.arrived);
    assert_eq!(real.completed as u64, sim.requests.ends.completed);
    assert_eq!(sim.requests.ends.completed, sim.requests.arrived);
    let leaf = &sim.endpoints[1];
    assert!(leaf.ends.timed_out > 5, "the scenario makes calls hang");
    assert_eq!(real.leaf_timed_out, leaf.ends.timed_out);
    assert_eq!(leaf.jobs, 2 * sim.requests.arrived);
    // The same workers started (the scaler saw the same queues at the same moments).
    assert_eq!(
        real.started,
        [sim.endpoints[0].cold_starts, leaf.cold_starts],
        "workers started: runtime vs simulator"
    );
    // Latencies and queue delays within the stated tolerance.
    within_tolerance("latency", real.latencies_ms, &sim.requests.latency);
    within_tolerance("queue delay", real.delays_ms, &sim.endpoints[0].queue_delay);
}

pub(super) fn within_tolerance(what: &str, measured: Vec<f64>, simulated: &super::Percentiles) {
    // The runtime's samples go through the simulator's own histogram: the same estimator.
    let mut h = super::stats::Histogram::default();
    for ms in measured {
        h.record(Duration::from_secs_f64(ms / 1e3));
    }
    let real = h.summary();
    for (q, s, r) in [
        (50, simulated.p50_ms, real.p50_ms),
        (95, simulated.p95_ms, real.p95_ms),
        (99, simulated.p99_ms, real.p99_ms),
    ] {
        let tolerance = (r * 0.02).max(100.0);
        eprintln!("{what} p{q}: simulator {s:.0} ms, runtime {r:.0} ms");
        assert!(
            (s - r).abs() <= tolerance,
            "{what} p{q}: simulator {s:.0} ms, runtime {r:.0} ms (tolerance {tolerance:.0} ms)"
        );
    }
}
