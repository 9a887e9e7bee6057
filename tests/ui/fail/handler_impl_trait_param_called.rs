// An `impl Trait` input, with a call site: the one error is on the parameter; the call site,
// which passes a `&str`, type-checks against the handle's methods and gets no second error.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 10_000)]
async fn greet(name: impl AsRef<str>) -> String {
    name.as_ref().to_owned()
}

#[endpoint(cpu = "cpu3c-2-4", calls = [greet], execution_timeout_ms = 60_000)]
async fn orchestrate(ctx: Ctx) -> String {
    greet::call(&ctx, "ada").await.unwrap_or_default()
}

fn main() {}
