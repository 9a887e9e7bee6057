// At most one context parameter.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 10_000)]
async fn greet(ctx: &Ctx, name: String, again: Ctx) -> String {
    let _ = (ctx, again);
    format!("Hello, {name}!")
}

fn main() {}
