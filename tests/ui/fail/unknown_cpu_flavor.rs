// A CPU flavor that does not exist (cpu5c has 2 GB of RAM per vCPU).
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu5c-4-16", execution_timeout_ms = 10_000)]
async fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

fn main() {}
