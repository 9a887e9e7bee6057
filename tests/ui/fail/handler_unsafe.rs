// A handler cannot be `unsafe`.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 10_000)]
async unsafe fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

fn main() {}
