// `init = ..`: a sync initialiser and an async one whose state a `&State` parameter receives,
// and initialisers run only for their side effects (no `&State` parameter). The handlers are
// driven through the SDK's JSON interface to check the state reaches them.
#![deny(deprecated)]

use std::sync::atomic::{AtomicUsize, Ordering};

use endpoint_sdk::prelude::*;
use endpoint_sdk::EndpointDef;
use serde_json::json;

pub struct Model {
    name: String,
}

fn load_model() -> Result<Model, String> {
    Ok(Model {
        name: "llama".to_string(),
    })
}

pub struct Tokenizer {
    vocab: Vec<&'static str>,
}

async fn load_tokenizer() -> Result<Tokenizer, std::io::Error> {
    Ok(Tokenizer {
        vocab: vec!["hello", "world"],
    })
}

static WARMED: AtomicUsize = AtomicUsize::new(0);

fn warm_cache() -> Result<usize, String> {
    Ok(WARMED.fetch_add(1, Ordering::SeqCst))
}

mod setup {
    pub async fn connect() -> Result<(), String> {
        Ok(())
    }
}

#[endpoint(gpu = ADA_24, init = load_model, execution_timeout_ms = 60_000)]
async fn generate(model: &Model, prompt: String) -> String {
    format!("{}: {prompt}", model.name)
}

#[endpoint(gpu = ADA_24, init = load_tokenizer, execution_timeout_ms = 60_000)]
async fn tokenize(ctx: &Ctx, tokenizer: &Tokenizer, text: String) -> Vec<usize> {
    let _ = ctx.job_id();
    text.split(' ')
        .filter_map(|w| tokenizer.vocab.iter().position(|v| *v == w))
        .collect()
}

#[endpoint(cpu = "cpu3c-2-4", init = warm_cache, execution_timeout_ms = 10_000)]
async fn cached(key: String) -> String {
    key
}

#[endpoint(cpu = "cpu3c-2-4", init = setup::connect, execution_timeout_ms = 10_000)]
async fn connected() -> bool {
    true
}

async fn run<E: endpoint_sdk::Handler>(input: serde_json::Value) -> serde_json::Value {
    let def = EndpointDef::of::<E>();
    let state = def.init().await.expect("init succeeds");
    def.run(&state, Ctx::detached(E::NAME), input)
        .await
        .expect("the job succeeds")
}

#[tokio::main]
async fn main() {
    assert!(<generate as Endpoint>::CONFIG.has_init);
    assert!(<cached as Endpoint>::CONFIG.has_init);
    assert_eq!(run::<generate>(json!("hi")).await, json!("llama: hi"));
    assert_eq!(
        run::<tokenize>(json!("world hello world")).await,
        json!([1, 0, 1])
    );
    assert_eq!(run::<cached>(json!("k")).await, json!("k"));
    assert_eq!(WARMED.load(Ordering::SeqCst), 1, "init ran once");
    assert_eq!(run::<connected>(json!({})).await, json!(true));
}
