use endpoint_sdk::prelude::*;
use endpoint_sdk::{AnyEndpoint, external};

/// worker-vllm, by its endpoint id, or a URL.
#[external(
    api = openai,
    name = "reasoning-model",
    id = env("LLM_ENDPOINT_ID"),
    url = env("LLM_BASE_URL", "OPENAI_BASE_URL"),
    key = env("LLM_API_KEY"),
    model = "meta-llama/Llama-3.3-70B-Instruct",
    execution_timeout_ms = 100_000
)]
pub struct reasoning_model;

/// An existing endpoint by its literal id, with no ceiling of its own.
#[external(id = "abc123xyz", model = "qwen")]
struct by_id;

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 120_000, calls = [reasoning_model])]
async fn agent(ctx: Ctx, question: String) -> Result<String, String> {
    let answer = reasoning_model::chat(&ctx)
        .system("be brief")
        .user(question)
        .max_tokens(256)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    Ok(answer.content)
}

fn main() {
    assert_eq!(<reasoning_model as AnyEndpoint>::NAME, "reasoning-model");
    assert_eq!(
        <reasoning_model as AnyEndpoint>::CONFIG.execution_timeout_ms,
        Some(100_000)
    );
    assert_eq!(<by_id as AnyEndpoint>::CONFIG.execution_timeout_ms, None);
    let id = by_id::SPEC.address().map(|a| a.base);
    assert!(id.is_some_and(|b| b.ends_with("/abc123xyz/openai/v1")));
    let _ = agent;
}
