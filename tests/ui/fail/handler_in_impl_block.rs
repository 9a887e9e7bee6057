// `#[endpoint]` on a method inside an `impl` block.
use endpoint_sdk::prelude::*;

pub struct Greeter;

impl Greeter {
    #[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 10_000)]
    pub async fn greet(name: String) -> String {
        format!("Hello, {name}!")
    }
}

fn main() {}
