// An interactive endpoint that scales to zero makes its first user wait for a cold start.
use endpoint_sdk::prelude::*;

#[endpoint(gpu = ADA_24, interactive, workers = (0, 3), execution_timeout_ms = 60_000)]
async fn chat(message: String) -> String {
    message
}

fn main() {}
