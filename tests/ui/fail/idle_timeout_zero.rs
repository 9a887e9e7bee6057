// The platform's idle timeout is 1 to 3600 seconds.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", idle_timeout = 0, execution_timeout_ms = 10_000)]
async fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

fn main() {}
