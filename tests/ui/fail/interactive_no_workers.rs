// `interactive` with no `workers` at all: the default minimum is 0.
use endpoint_sdk::prelude::*;

#[endpoint(gpu = ADA_24, interactive = true, execution_timeout_ms = 60_000)]
async fn chat(message: String) -> String {
    message
}

fn main() {}
