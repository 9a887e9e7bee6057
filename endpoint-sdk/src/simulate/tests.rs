//! The simulator against hand-computed cases: each scaler rule, the idle timeout, cold starts
//! met, calls and timeouts, costs from the price table; and its accounting (every arrival ends
//! exactly once).

use std::borrow::Cow;

use super::report::{Report, unit_price};
use super::{Scenario, simulate};
use crate::config::{EndpointConfig, Scaler, Workers};

fn ep(name: &str, min: u32, max: u32) -> EndpointConfig {
    let mut c = EndpointConfig::new(name.to_string());
    c.hardware = crate::config::Hardware::Cpu {
        flavor: Cow::Borrowed("cpu3c-2-4"),
    };
    c.workers = Workers { min, max };
    c.idle_timeout_s = 5;
    c.execution_timeout_ms = Some(60_000);
    c.scaler = Scaler::QueueDelay(4);
    c.flashboot = false;
    c
}

fn run(configs: &[EndpointConfig], scenario: &str) -> Report {
    simulate("test", configs, &Scenario::parse(scenario).unwrap()).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= b.abs() * 0.01 + 1e-9
}

const EVERY_20S: &str = r#"
    duration = "100s"
    cold_start = { cpu = "10s" }
    traffic = { pattern = "constant", rate = 0.05 }
    [endpoints.e]
    service = "1s"
"#;

#[test]
fn scale_to_zero_pays_a_cold_start_per_request_and_the_idle_timeout_stops_each_worker() {
    // Requests at 0, 20, 40, 60, 80 s. Each finds no worker: one starts (10 s), runs the job
    // (1 s), idles 5 s and stops, before the next request comes.
    let r = run(&[ep("e", 0, 1)], EVERY_20S);
    let v = &r.variants[0];
    let e = &v.endpoints[0];
    assert_eq!(v.requests.arrived, 5);
    assert_eq!(v.requests.ends.completed, 5);
    assert_eq!(v.requests.met_cold_start, 5);
    assert_eq!(e.cold_starts, 5);
    assert!(
        close(v.requests.latency.p50_ms, 11_000.0),
        "{:?}",
        v.requests.latency
    );
    assert!(close(e.queue_delay.max_ms, 10_000.0), "{:?}", e.queue_delay);
    // Each worker: 10 s starting, 1 s running, 5 s idle.
    assert!(close(e.worker_seconds, 80.0), "{}", e.worker_seconds);
    assert!(
        close(e.mean_workers.starting * 100.0, 50.0),
        "{:?}",
        e.mean_workers
    );
    assert!(
        close(e.mean_workers.idle * 100.0, 25.0),
        "{:?}",
        e.mean_workers
    );
    assert!(
        close(e.mean_workers.running * 100.0, 5.0),
        "{:?}",
        e.mean_workers
    );
    assert_eq!(e.peak_workers.alive, 1);
    // No active worker: 80 flex worker-seconds at cpu3c's flex price for 2 vCPU.
    let (_, flex, _) = unit_price(&ep("e", 0, 1)).unwrap();
    assert!(close(e.cost.unwrap(), 80.0 * flex), "{:?}", e.cost);
}

#[test]
fn a_warm_worker_is_ready_from_the_start_and_billed_as_active_all_along() {
    // As on any day after the deploy, the `min` worker is up at 0 s: no request waits.
    let r = run(&[ep("e", 1, 1)], EVERY_20S);
    let v = &r.variants[0];
    let e = &v.endpoints[0];
    assert_eq!(e.cold_starts, 0);
    assert_eq!(v.requests.met_cold_start, 0);
    assert!(close(v.requests.latency.max_ms, 1_000.0));
    assert!(
        close(e.worker_seconds, 100.0),
        "never stops: {}",
        e.worker_seconds
    );
    let (active, _, _) = unit_price(&ep("e", 1, 1)).unwrap();
    assert!(close(e.cost.unwrap(), 100.0 * active), "{:?}", e.cost);

    // On the day of a deploy it boots first, and the request at 0 s waits for it.
    let r = run(
        &[ep("e", 1, 1)],
        &format!("cold_at_start = true\n{EVERY_20S}"),
    );
    let (v, e) = (&r.variants[0], &r.variants[0].endpoints[0]);
    assert_eq!(e.cold_starts, 1);
    assert_eq!(v.requests.met_cold_start, 1);
    assert!(
        close(v.requests.latency.p50_ms, 1_000.0),
        "{:?}",
        v.requests.latency
    );
    assert!(close(v.requests.latency.max_ms, 11_000.0));
    assert!(close(e.worker_seconds, 100.0));
}

#[test]
fn queue_delay_adds_a_worker_once_the_oldest_job_has_waited_past_its_threshold() {
    // Jobs at 0 and 0.5 s, 20 s each. The first gets a worker at once (none exists; 1 s boot).
    // The second waits: a second worker starts at the first tick when it has waited more than
    // 4 s and none is starting (4.55 s, the janitor ticking every 50 ms), ready 1 s later.
    let dir = std::env::temp_dir().join(format!("sim-qd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("a.csv");
    std::fs::write(&file, "0\n0.5\n").unwrap();
    let r = run(
        &[ep("e", 0, 2)],
        &format!(
            r#"
            duration = "60s"
            cold_start = {{ cpu = "1s" }}
            traffic = {{ pattern = "csv", file = "{}" }}
            [endpoints.e]
            service = "20s"
            "#,
            file.display()
        ),
    );
    let e = &r.variants[0].endpoints[0];
    assert_eq!(e.cold_starts, 2);
    assert_eq!(e.peak_workers.running, 2, "both running at once");
    assert!(close(e.queue_delay.max_ms, 5_050.0), "{:?}", e.queue_delay);
    assert!(close(e.queue_delay.p50_ms, 1_000.0), "{:?}", e.queue_delay);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn request_count_starts_a_worker_per_queued_job_at_once() {
    let dir = std::env::temp_dir().join(format!("sim-rc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("a.csv");
    std::fs::write(&file, "0\n0\n0\n0\n0\n").unwrap();
    let mut c = ep("e", 0, 10);
    c.scaler = Scaler::RequestCount(1);
    let r = run(
        &[c],
        &format!(
            r#"
            duration = "30s"
            cold_start = {{ cpu = "3s" }}
            traffic = {{ pattern = "csv", file = "{}" }}
            [endpoints.e]
            service = "1s"
            "#,
            file.display()
        ),
    );
    let v = &r.variants[0];
    let e = &v.endpoints[0];
    assert_eq!(e.cold_starts, 5);
    assert_eq!(e.peak_workers.starting, 5, "five booting at once");
    assert!(
        close(v.requests.latency.max_ms, 4_000.0),
        "{:?}",
        v.requests.latency
    );
    assert!(
        close(v.requests.latency.p50_ms, 4_000.0),
        "{:?}",
        v.requests.latency
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn calls_fan_out_and_a_hang_ends_at_the_ceiling_cancelling_what_it_waited_for() {
    let mut orch = ep("orch", 1, 1);
    orch.calls = Cow::Owned(vec!["leaf".into()]);
    orch.concurrency = 10;
    orch.execution_timeout_ms = Some(30_000);
    let mut leaf = ep("leaf", 3, 3);
    leaf.concurrency = 1;
    let r = run(
        &[orch, leaf],
        r#"
        duration = "1000s"
        traffic = { pattern = "constant", rate = 0.01 }
        cold_start = { cpu = "1s" }
        [endpoints.orch]
        service = "2s"
        calls = [{ to = "leaf", count = 3 }, { to = "leaf", count = 2, parallel = false }]
        [endpoints.leaf]
        service = "5s"
        "#,
    );
    let v = &r.variants[0];
    // Ten requests; each makes 3 calls at once then 2 in turn: 5 + 5 + 5 s of calls, then 2 s.
    assert_eq!(v.requests.arrived, 10);
    assert_eq!(v.requests.ends.completed, 10);
    assert_eq!(v.endpoints[1].jobs, 50);
    // Workers were warm (min = max), except for the first request.
    assert!(
        close(v.requests.latency.p50_ms, 17_000.0),
        "{:?}",
        v.requests.latency
    );

    // The same with every leaf hanging: the orchestrator's 30 s ceiling ends each request, and
    // the calls it still waited for are cancelled (the leaf's own ceiling is 60 s).
    let mut orch = ep("orch", 1, 1);
    orch.calls = Cow::Owned(vec!["leaf".into()]);
    orch.concurrency = 10;
    orch.execution_timeout_ms = Some(30_000);
    let r = run(
        &[orch, ep("leaf", 3, 3)],
        r#"
        duration = "1000s"
        traffic = { pattern = "constant", rate = 0.01 }
        cold_start = { cpu = "1s" }
        [endpoints.orch]
        calls = [{ to = "leaf", count = 3 }]
        [endpoints.leaf]
        hang = 1.0
        "#,
    );
    let v = &r.variants[0];
    assert_eq!(v.requests.ends.timed_out, 10);
    assert_eq!(v.endpoints[1].ends.cancelled, 30, "{:?}", v.endpoints[1]);
    assert!(
        close(v.requests.latency.p50_ms, 30_000.0),
        "{:?}",
        v.requests.latency
    );
}

#[test]
fn every_arrival_ends_exactly_once_and_variants_share_their_arrivals() {
    let mut orch = ep("orch", 0, 5);
    orch.calls = Cow::Owned(vec!["leaf".into()]);
    orch.concurrency = 4;
    let mut leaf = ep("leaf", 0, 10);
    leaf.execution_timeout_ms = Some(30_000);
    let r = run(
        &[orch, leaf],
        r#"
        duration = "2h"
        seed = 11
        traffic = { pattern = "poisson", rate = 0.5 }
        [endpoints.orch]
        service = { p50 = "2s", p99 = "8s" }
        calls = [{ to = "leaf", count = 3 }]
        hang = 0.02
        fail = 0.05
        [endpoints.leaf]
        service = { p50 = "1s", p99 = "20s" }
        [variants]
        warm = { "orch.workers" = [2, 5], "leaf.workers" = [3, 10] }
        "#,
    );
    assert_eq!(r.variants.len(), 2);
    let (cold, warm) = (&r.variants[0], &r.variants[1]);
    for v in [cold, warm] {
        let q = &v.requests;
        assert_eq!(q.ends.total() + q.rejected, q.arrived, "{}: {q:?}", v.name);
        for e in &v.endpoints {
            assert_eq!(e.ends.total() + e.rejected, e.jobs, "{}: {e:?}", v.name);
        }
        assert_eq!(v.unfinished, 0);
    }
    assert_eq!(cold.requests.arrived, warm.requests.arrived);
    assert!(cold.requests.arrived > 3000);
    // The same draws: the same requests hang (and make no call) in both, so the calls agree.
    assert_eq!(cold.endpoints[1].jobs, warm.endpoints[1].jobs);
    assert!(cold.requests.ends.timed_out > 0 && warm.requests.ends.timed_out > 0);
    assert!(cold.requests.met_cold_start > warm.requests.met_cold_start);
    assert!(warm.cost > 0.0 && cold.cost > 0.0);
    let table = r.to_table();
    assert!(
        table.contains("configured") && table.contains("warm"),
        "{table}"
    );
}

#[test]
fn the_picture_has_a_line_per_variant_and_the_table() {
    let scenario = format!("{EVERY_20S}\n[variants]\nwarm = {{ \"e.workers\" = [1, 1] }}\n");
    let r = run(&[ep("e", 0, 1)], &scenario);
    let html = r.to_html();
    assert!(html.starts_with("<!doctype html>"));
    // Requests per hour, latency p95 and p50, then workers and queue of the one endpoint: 5
    // lines per variant.
    assert_eq!(html.matches("<polyline").count(), 10, "{html}");
    assert!(html.contains("#2563eb") && html.contains("#dc2626"));
    assert!(
        html.contains("met a cold start"),
        "the table is on the page"
    );
    assert!(!html.contains("<script"), "self-contained, nothing to run");
}
