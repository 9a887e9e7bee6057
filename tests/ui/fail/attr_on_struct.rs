// `#[endpoint]` goes on a function.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 10_000)]
pub struct Greeter {
    pub greeting: String,
}

fn main() {}
