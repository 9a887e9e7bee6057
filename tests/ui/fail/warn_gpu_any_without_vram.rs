// Warning (denied here): `gpu = ANY` can land on a 16 GB card.
#![deny(deprecated)]
use endpoint_sdk::prelude::*;

#[endpoint(gpu = ANY, execution_timeout_ms = 60_000)]
async fn generate(prompt: String) -> String {
    prompt
}

fn main() {}
