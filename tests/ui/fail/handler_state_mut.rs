// The per-worker state is shared by the worker's jobs: no `&mut`.
use endpoint_sdk::prelude::*;

struct Model;

fn load_model() -> Result<Model, String> {
    Ok(Model)
}

#[endpoint(gpu = ADA_24, init = load_model, execution_timeout_ms = 60_000)]
async fn generate(model: &mut Model, prompt: String) -> String {
    let _ = model;
    prompt
}

fn main() {}
