// `init` builds a `Model`; the handler asks for a `Tokenizer`.
use endpoint_sdk::prelude::*;

struct Model;
struct Tokenizer;

fn load_model() -> Result<Model, String> {
    Ok(Model)
}

#[endpoint(gpu = ADA_24, init = load_model, execution_timeout_ms = 60_000)]
async fn generate(tokenizer: &Tokenizer, prompt: String) -> String {
    let _ = tokenizer;
    prompt
}

fn main() {}
