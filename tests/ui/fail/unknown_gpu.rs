// A GPU written the short way: the error suggests the catalog's identifier.
use endpoint_sdk::prelude::*;

#[endpoint(gpu = RTX_4090, execution_timeout_ms = 60_000)]
async fn generate(prompt: String) -> String {
    prompt
}

fn main() {}
