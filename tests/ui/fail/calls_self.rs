// An endpoint that lists itself in `calls`.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", calls = [orchestrate], execution_timeout_ms = 60_000)]
async fn orchestrate(goal: String) -> String {
    goal
}

fn main() {}
