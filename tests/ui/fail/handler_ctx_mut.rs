// The context cannot be borrowed mutably.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 10_000)]
async fn greet(ctx: &mut Ctx, name: String) -> String {
    let _ = ctx;
    format!("Hello, {name}!")
}

fn main() {}
