//! Load-balancing endpoints in the simulator against hand-computed cases: the request-count
//! scaler with cold starts and the idle timeout, a conversation's turns and their affinity
//! (kept, resumed, or refused when the worker is gone), the two-minute bound, and the
//! accounting of turns.

use std::borrow::Cow;

use super::report::Report;
use super::{Scenario, simulate};
use crate::config::{EndpointConfig, EndpointKind, LoadBalancer, Scaler, Workers};

/// A load-balancing endpoint: request_count(1), idle timeout 5 s, 60 s cap, no FlashBoot.
fn chat(min: u32, max: u32) -> EndpointConfig {
    let mut c = EndpointConfig::new("chat".to_string());
    c.kind = EndpointKind::LoadBalancer(LoadBalancer::default());
    c.hardware = crate::config::Hardware::Cpu {
        flavor: Cow::Borrowed("cpu3c-2-4"),
    };
    c.workers = Workers { min, max };
    c.idle_timeout_s = 5;
    c.execution_timeout_ms = Some(60_000);
    c.scaler = Scaler::RequestCount(1);
    c.flashboot = false;
    c
}

fn run(configs: &[EndpointConfig], scenario: &str) -> Report {
    simulate("test", configs, &Scenario::parse(scenario).unwrap()).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= b.abs() * 0.01 + 1e-9
}

#[test]
fn each_lonely_request_starts_a_worker_that_idles_out_before_the_next() {
    // Requests at 0, 100, 200, 300, 400 s; none finds a worker (the last stopped 5 s after its
    // request): a worker starts (10 s), serves 1 s, idles 5 s, and is retired.
    let r = run(
        &[chat(0, 3)],
        r#"
        duration = "500s"
        cold_start = { cpu = "10s" }
        traffic = { endpoint = "chat", pattern = "constant", rate = 0.01 }
        [endpoints.chat]
        service = "1s"
        "#,
    );
    let v = &r.variants[0];
    let e = &v.endpoints[0];
    assert_eq!((v.requests.arrived, v.requests.ends.completed), (5, 5));
    assert_eq!(e.cold_starts, 5);
    assert_eq!(v.requests.met_cold_start, 5);
    assert!(
        close(v.requests.latency.p50_ms, 11_000.0),
        "{:?}",
        v.requests.latency
    );
    assert!(close(e.queue_delay.p50_ms, 10_000.0), "{:?}", e.queue_delay);
    // Each worker: 10 s starting, 1 s serving, 5 s idle (retired at the first tick after).
    assert!(
        close(e.worker_seconds, 80.0) || (e.worker_seconds - 80.0).abs() < 0.3,
        "{}",
        e.worker_seconds
    );
    assert_eq!(e.peak_workers.alive, 1);
}

#[test]
fn a_conversation_keeps_its_worker_and_a_gone_worker_ends_a_strict_one() {
    // Two conversations, at 0 and 5 s, of three 2 s turns 20 s apart; request_count(1), max
    // 3. The first starts a worker (ready at 10 s), the second another (ready at 15 s); the
    // first worker serves both first turns (10-12 s, 12-14 s), and each later turn is pinned
    // to it. With a 60 s idle timeout it is still there: two cold starts, four warm turns.
    let scenario = |affinity: &str, idle: &str| {
        format!(
            r#"
            duration = "6s"
            cold_start = {{ cpu = "10s" }}
            traffic = {{ endpoint = "chat", pattern = "constant", rate = 0.2 }}
            [endpoints.chat]
            service = "2s"
            turns = 3
            think = "20s"
            affinity = "{affinity}"
            [variants]
            v = {{ "chat.idle_timeout" = "{idle}" }}
            "#
        )
    };
    let r = run(&[chat(0, 3)], &scenario("prefer", "60s"));
    let v = &r.variants[1];
    assert_eq!(v.requests.arrived, 6, "two conversations of three turns");
    assert_eq!(v.requests.ends.completed, 6);
    assert_eq!(v.endpoints[0].cold_starts, 2);
    assert_eq!(v.requests.met_cold_start, 2, "the first turns");
    assert!(
        close(v.requests.latency.p50_ms, 2_000.0),
        "{:?}",
        v.requests.latency
    );

    // Idle timeout 5 s < the 20 s pause: the worker is retired between turns. `strict` then
    // refuses the next turn (`affinity_worker_gone`) and the conversation ends there...
    let r = run(&[chat(0, 3)], &scenario("strict", "5s"));
    let v = &r.variants[1];
    assert_eq!(
        v.requests.arrived, 4,
        "each conversation's second turn is its last"
    );
    assert_eq!(v.requests.rejected, 2);
    assert_eq!(v.requests.ends.completed, 2);
    // ... `strict-resume` starts the same worker again (its turns wait for it) ...
    let r = run(&[chat(0, 3)], &scenario("strict-resume", "5s"));
    let v = &r.variants[1];
    assert_eq!((v.requests.arrived, v.requests.ends.completed), (6, 6));
    assert_eq!(v.requests.rejected, 0);
    assert!(
        v.endpoints[0].cold_starts >= 4,
        "{}",
        v.endpoints[0].cold_starts
    );
    // ... and `prefer` gets any worker, also cold.
    let r = run(&[chat(0, 3)], &scenario("prefer", "5s"));
    let v = &r.variants[1];
    assert_eq!(
        (v.requests.ends.completed, v.requests.met_cold_start),
        (6, 6)
    );
}

#[test]
fn a_request_that_no_worker_takes_within_two_minutes_is_refused() {
    let r = run(
        &[chat(0, 1)],
        r#"
        duration = "1s"
        traffic = { endpoint = "chat", pattern = "constant", rate = 1.0 }
        [endpoints.chat]
        service = "1s"
        cold_start = "200s"
        "#,
    );
    let v = &r.variants[0];
    assert_eq!(v.requests.arrived, 1);
    assert_eq!(v.requests.rejected, 1, "no workers available after 120 s");
    assert_eq!(v.endpoints[0].rejected, 1);
    assert_eq!(v.requests.latency.max_ms, 0.0, "a refusal is not a latency");
    assert_eq!(
        v.endpoints[0].cold_starts, 1,
        "its worker was still starting"
    );
}

#[test]
fn every_turn_ends_once_and_its_calls_are_counted() {
    let mut leaf = EndpointConfig::new("leaf".to_string());
    leaf.hardware = crate::config::Hardware::Cpu {
        flavor: Cow::Borrowed("cpu3c-2-4"),
    };
    leaf.workers = Workers { min: 0, max: 5 };
    leaf.execution_timeout_ms = Some(20_000);
    let mut chat = chat(1, 4);
    chat.calls = Cow::Owned(vec!["leaf".into()]);
    let r = run(
        &[chat, leaf],
        r#"
        duration = "1h"
        seed = 5
        traffic = { endpoint = "chat", pattern = "poisson", rate = 0.05 }
        [endpoints.chat]
        service = { p50 = "2s", p99 = "10s" }
        calls = [{ to = "leaf", count = 2 }]
        turns = 4
        think = { p50 = "10s", p99 = "60s" }
        fail = 0.05
        [endpoints.leaf]
        service = { p50 = "1s", p99 = "8s" }
        hang = 0.02
        "#,
    );
    let v = &r.variants[0];
    let q = &v.requests;
    assert!(q.arrived > 400, "{q:?}");
    assert_eq!(q.ends.total() + q.rejected, q.arrived, "{q:?}");
    // The report lists queue endpoints first, then load-balancing ones.
    let (leaf, chat) = (&v.endpoints[0], &v.endpoints[1]);
    assert_eq!(chat.name, "chat");
    assert_eq!(chat.jobs, q.arrived);
    assert_eq!(
        leaf.jobs,
        2 * (chat.jobs - chat.rejected),
        "two calls per turn served"
    );
    assert_eq!(leaf.ends.total() + leaf.rejected, leaf.jobs);
    assert!(leaf.ends.timed_out > 0, "hung calls reach their ceiling");
    assert!(q.ends.failed > 0);
}

#[test]
fn a_variant_may_not_give_a_load_balancing_endpoint_a_job_concurrency() {
    let e = simulate(
        "test",
        &[chat(0, 3)],
        &Scenario::parse(
            r#"
            traffic = { endpoint = "chat", pattern = "constant", rate = 1.0 }
            [variants]
            v = { "chat.concurrency" = 4 }
            "#,
        )
        .unwrap(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("vary `scaler`"), "{e}");
}
