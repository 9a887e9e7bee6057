// A `&T` parameter receives the state built by `init`, and there is no `init`.
use endpoint_sdk::prelude::*;

#[derive(serde::Deserialize, serde::Serialize)]
struct Prompt {
    text: String,
}

#[endpoint(gpu = ADA_24, execution_timeout_ms = 60_000)]
async fn generate(prompt: &Prompt) -> String {
    prompt.text.clone()
}

fn main() {}
