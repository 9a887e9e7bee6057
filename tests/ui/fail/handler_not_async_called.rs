// A handler that is not `async`, with call sites: the one error is on the handler; its typed
// handle (`call`, `submit`, `fan_out`) still exists, so the callers get no second error.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 10_000)]
fn greet(name: String, times: u32) -> String {
    name.repeat(times as usize)
}

#[endpoint(cpu = "cpu3c-2-4", calls = [greet], execution_timeout_ms = 60_000)]
async fn orchestrate(ctx: Ctx, name: String) -> String {
    let once: String = greet::call(&ctx, name.clone(), 1).await.unwrap_or_default();
    let _job = greet::submit(&ctx, name.clone(), 2).await;
    let _all = greet::fan_out(&ctx, vec![(name, 3)]).concurrency(2).await;
    once
}

fn main() {}
