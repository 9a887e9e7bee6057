// `workers` is `N` or `(min, max)`; three numbers is neither.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", workers = (0, 2, 5), execution_timeout_ms = 10_000)]
async fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

fn main() {}
