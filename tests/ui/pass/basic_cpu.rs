// The smallest endpoint, plus `name`, `workers = N`, `idle_timeout` and a timeout written with
// `_` separators; the generated handle carries the checked configuration.
use endpoint_sdk::config::{Hardware, Scaler};
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", workers = (0, 2), execution_timeout_ms = 10_000)]
async fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

#[endpoint(
    name = "web-retrieval",
    cpu = "cpu5c-4-8",
    workers = 10,
    idle_timeout = 300,
    execution_timeout_ms = 1_800_000,
)]
async fn scrape(url: String) -> String {
    url
}

fn main() {
    let c = <greet as Endpoint>::CONFIG;
    assert_eq!(<greet as Endpoint>::NAME, "greet");
    assert_eq!(c.name, "greet");
    assert_eq!(
        c.hardware,
        Hardware::Cpu {
            flavor: "cpu3c-2-4".into()
        }
    );
    assert_eq!((c.workers.min, c.workers.max), (0, 2));
    assert_eq!(c.execution_timeout_ms, Some(10_000));
    // Defaults.
    assert_eq!(c.idle_timeout_s, 60);
    assert_eq!(c.concurrency, 1);
    assert_eq!(c.scaler, Scaler::QueueDelay(4));
    assert!(c.flashboot);
    assert!(!c.interactive);
    assert!(!c.has_init);
    assert!(c.datacenters.is_empty() && c.volumes.is_empty() && c.env.is_empty());

    let c = <scrape as Endpoint>::CONFIG;
    assert_eq!(<scrape as Endpoint>::NAME, "web-retrieval");
    assert_eq!(c.name, "web-retrieval");
    // `workers = N` means (0, N).
    assert_eq!((c.workers.min, c.workers.max), (0, 10));
    assert_eq!(c.idle_timeout_s, 300);
    assert_eq!(c.execution_timeout_ms, Some(1_800_000));
}
