// A syntax error inside the handler's body: the compiler's own error, once, at the offending
// token. The signature is sound, so the handle type is generated and its callers get no second
// error.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 10_000)]
async fn greet(name: String) -> String {
    let greeting = format!("Hello, {name}!")
    greeting
}

#[endpoint(cpu = "cpu3c-2-4", calls = [greet], execution_timeout_ms = 60_000)]
async fn orchestrate(ctx: Ctx, name: String) -> String {
    greet::call(&ctx, name).await.unwrap_or_default()
}

fn main() {}
