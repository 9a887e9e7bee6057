// Warning (denied here): more than 100 jobs at once on one worker.
#![deny(deprecated)]
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", concurrency = 101, execution_timeout_ms = 10_000)]
async fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

fn main() {}
