//! The reasoning model: an OpenAI-compatible chat API built elsewhere (a worker-vllm endpoint
//! on Runpod, a vLLM beside the orchestrator, any hosted API), declared with `#[external]` so
//! that its calls are the orchestrator's calls: each one a step of its `max_steps`, inside its
//! deadline, retried only while no token has arrived, in its trace, streamed.
//!
//! Where it is: `LLM_ENDPOINT_ID` (a Runpod endpoint id: its `/openai/v1` route, with
//! `RUNPOD_API_KEY`; `app deploy` wires it into the orchestrator), or `LLM_BASE_URL` (any base
//! URL up to `/v1`, with `LLM_API_KEY`); `LLM_MODEL` names the served model. The `OPENAI_*`
//! spellings work too. With none of them, the agent answers extractively and says so.

use endpoint_sdk::Ctx;
use endpoint_sdk::client::ChatError;
use endpoint_sdk::external;

/// The reasoning model the orchestrator calls.
#[external(
    api = openai,
    id = env("LLM_ENDPOINT_ID"),
    url = env("LLM_BASE_URL", "OPENAI_BASE_URL"),
    key = env("LLM_API_KEY", "OPENAI_API_KEY"),
    model = env("LLM_MODEL", "OPENAI_MODEL"),
    execution_timeout_ms = 100_000
)]
pub struct reasoning_model;

/// The model asked for when `LLM_MODEL` is not set.
const DEFAULT_MODEL: &str = "gpt-4o-mini";

/// The reasoning model, as one job calls it.
pub struct Llm<'a> {
    ctx: &'a Ctx,
    model: String,
    base: String,
}

impl<'a> Llm<'a> {
    /// The model for `ctx`'s job, if one is configured.
    pub fn for_job(ctx: &'a Ctx) -> Option<Self> {
        let address = reasoning_model::SPEC.address()?;
        Some(Llm {
            ctx,
            model: reasoning_model::SPEC
                .model()
                .unwrap_or_else(|| DEFAULT_MODEL.to_string()),
            base: address.base,
        })
    }

    /// A description for reports.
    pub fn describe(&self) -> String {
        format!("{} at {}", self.model, self.base)
    }

    fn request(&self, system: &str, user: &str) -> endpoint_sdk::client::ChatRequest {
        reasoning_model::chat(self.ctx)
            .model(self.model.clone())
            .temperature(0.2)
            .system(system)
            .user(user)
    }

    /// One chat completion, whole.
    pub async fn chat(&self, system: &str, user: &str) -> Result<String, ChatError> {
        Ok(self.request(system, user).send().await?.content)
    }

    /// One chat completion, each piece to `on_token` as the model writes it; the whole answer
    /// is returned.
    pub async fn chat_stream(
        &self,
        system: &str,
        user: &str,
        on_token: &mut (dyn FnMut(String) + Send),
    ) -> Result<String, ChatError> {
        let mut stream = self.request(system, user).stream();
        while let Some(piece) = stream.next_token().await {
            on_token(piece);
        }
        Ok(stream.answer().await?.content)
    }
}
