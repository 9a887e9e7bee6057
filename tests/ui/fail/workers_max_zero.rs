// No worker at all: the endpoint could never run a job.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", workers = 0, execution_timeout_ms = 10_000)]
async fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

fn main() {}
