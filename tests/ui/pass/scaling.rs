// `scaler` (both kinds), `concurrency`, `idle_timeout`, `workers` as N and as (min, max), and
// `interactive` in its three spellings.
#![deny(deprecated)]

use endpoint_sdk::config::Scaler;
use endpoint_sdk::prelude::*;

#[endpoint(
    cpu = "cpu3c-2-4",
    scaler = queue_delay(10),
    concurrency = 8,
    workers = 4,
    idle_timeout = 1,
    execution_timeout_ms = 10_000
)]
async fn batch(items: Vec<String>) -> usize {
    items.len()
}

#[endpoint(
    gpu = ADA_24,
    scaler = request_count(3),
    concurrency = 100,
    workers = (1, 20),
    interactive,
    execution_timeout_ms = 604_800_000
)]
async fn chat(message: String) -> String {
    message
}

#[endpoint(gpu = ADA_24, interactive = true, workers = (2, 4), idle_timeout = 3600, execution_timeout_ms = 60_000)]
async fn autocomplete(prefix: String) -> String {
    prefix
}

#[endpoint(cpu = "cpu3c-2-4", interactive = false, execution_timeout_ms = 10_000)]
async fn offline(job: String) -> String {
    job
}

fn main() {
    let c = <batch as Endpoint>::CONFIG;
    assert_eq!(c.scaler, Scaler::QueueDelay(10));
    assert_eq!(c.scaler.kind(), "QUEUE_DELAY");
    assert_eq!(c.concurrency, 8);
    assert_eq!((c.workers.min, c.workers.max), (0, 4));
    assert_eq!(c.idle_timeout_s, 1);
    assert!(!c.interactive);

    let c = <chat as Endpoint>::CONFIG;
    assert_eq!(c.scaler, Scaler::RequestCount(3));
    assert_eq!(c.scaler.kind(), "REQUEST_COUNT");
    assert_eq!(c.concurrency, 100);
    assert_eq!((c.workers.min, c.workers.max), (1, 20));
    assert_eq!(c.idle_timeout_s, 60, "the default: request_count takes no idle_timeout");
    assert_eq!(c.execution_timeout_ms, Some(604_800_000));
    assert!(c.interactive);

    let c = <autocomplete as Endpoint>::CONFIG;
    assert!(c.interactive);
    assert_eq!(c.idle_timeout_s, 3600);
    assert_eq!((c.workers.min, c.workers.max), (2, 4));

    assert!(!<offline as Endpoint>::CONFIG.interactive);
}
