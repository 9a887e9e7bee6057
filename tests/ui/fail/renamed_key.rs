// A key spelt the way Runpod Flash spells it: the error says what this attribute calls it.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", max_concurrency = 4, execution_timeout_ms = 10_000)]
async fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

fn main() {}
