// Warning (denied here): neither `gpu` nor `cpu` means `gpu = ANY`, which can land on a 16 GB
// card. The warning has no setting to point at.
#![deny(deprecated)]
use endpoint_sdk::prelude::*;

#[endpoint(workers = (0, 2), execution_timeout_ms = 60_000)]
async fn generate(prompt: String) -> String {
    prompt
}

fn main() {}
