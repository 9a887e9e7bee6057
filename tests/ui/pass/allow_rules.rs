// `allow(..)` opts out of each rule that can be opted out of. With `deny(deprecated)`, a warning
// that was not silenced would fail this test.
#![deny(deprecated)]

use endpoint_sdk::config::GpuChoice;
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", allow(no_execution_timeout))]
async fn unbounded(job: String) -> String {
    job
}

#[endpoint(
    gpu = ADA_24,
    interactive,
    allow(interactive_cold_start),
    execution_timeout_ms = 60_000
)]
async fn rarely_used_chat(message: String) -> String {
    message
}

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 60_000)]
async fn slow(job: String) -> String {
    job
}

#[endpoint(
    cpu = "cpu3c-2-4",
    calls = [slow],
    execution_timeout_ms = 30_000,
    allow(callee_timeout)
)]
async fn impatient(job: String) -> String {
    job
}

#[endpoint(gpu = ANY, allow(gpu_without_vram_floor), execution_timeout_ms = 60_000)]
async fn tiny_model(prompt: String) -> String {
    prompt
}

#[endpoint(
    gpu = [ADA_24, AMPERE_24],
    min_vram_gb = 24,
    workers = (0, 2),
    allow(gpu_fallback_needs_five_workers),
    execution_timeout_ms = 60_000
)]
async fn few_workers(prompt: String) -> String {
    prompt
}

#[endpoint(
    cpu = "cpu3c-2-4",
    concurrency = 500,
    allow(high_concurrency),
    execution_timeout_ms = 10_000
)]
async fn io_bound(url: String) -> String {
    url
}

#[endpoint(workers = (0, 2), allow(gpu_without_vram_floor, no_execution_timeout))]
async fn defaults_everywhere(prompt: String) -> String {
    prompt
}

fn main() {
    let c = <unbounded as Endpoint>::CONFIG;
    assert_eq!(c.execution_timeout_ms, None);
    assert_eq!(c.allow.as_ref(), ["no_execution_timeout"]);

    let c = <rarely_used_chat as Endpoint>::CONFIG;
    assert!(c.interactive);
    assert_eq!(c.workers.min, 0);
    assert_eq!(c.allow.as_ref(), ["interactive_cold_start"]);

    assert_eq!(<impatient as Endpoint>::CONFIG.calls.as_ref(), ["slow"]);
    assert_eq!(
        <impatient as Endpoint>::CONFIG.allow.as_ref(),
        ["callee_timeout"]
    );
    assert_eq!(
        <tiny_model as Endpoint>::CONFIG.allow.as_ref(),
        ["gpu_without_vram_floor"]
    );
    assert_eq!(
        <few_workers as Endpoint>::CONFIG.allow.as_ref(),
        ["gpu_fallback_needs_five_workers"]
    );
    assert_eq!(<io_bound as Endpoint>::CONFIG.concurrency, 500);

    let c = <defaults_everywhere as Endpoint>::CONFIG;
    assert_eq!(
        c.allow.as_ref(),
        ["gpu_without_vram_floor", "no_execution_timeout"]
    );
    assert_eq!(c.execution_timeout_ms, None);
    match &c.hardware {
        endpoint_sdk::config::Hardware::Gpu { selection, .. } => {
            assert_eq!(selection.as_ref(), [GpuChoice::Any])
        }
        other => panic!("{other:?}"),
    }
}
