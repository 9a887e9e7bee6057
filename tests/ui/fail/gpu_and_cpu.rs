// An endpoint's workers are either GPU or CPU workers.
use endpoint_sdk::prelude::*;

#[endpoint(gpu = ADA_24, cpu = "cpu5c-4-8", execution_timeout_ms = 60_000)]
async fn generate(prompt: String) -> String {
    prompt
}

fn main() {}
