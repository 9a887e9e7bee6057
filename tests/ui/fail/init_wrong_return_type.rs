// `init` returns the state itself instead of `Result<State, E>`.
use endpoint_sdk::prelude::*;

struct Model;

fn load_model() -> Model {
    Model
}

#[endpoint(gpu = ADA_24, init = load_model, execution_timeout_ms = 60_000)]
async fn generate(model: &Model, prompt: String) -> String {
    let _ = model;
    prompt
}

fn main() {}
