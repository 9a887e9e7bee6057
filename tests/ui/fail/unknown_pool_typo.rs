// A one-character typo in a pool name.
use endpoint_sdk::prelude::*;

#[endpoint(gpu = AMPERE_81, execution_timeout_ms = 60_000)]
async fn generate(prompt: String) -> String {
    prompt
}

fn main() {}
