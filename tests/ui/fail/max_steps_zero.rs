// A step budget of zero would refuse every call.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-2-4", max_steps = 0, execution_timeout_ms = 10_000)]
async fn agent(q: String) -> String {
    q
}

fn main() {}
