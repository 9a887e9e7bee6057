//! An OpenAI-compatible chat API (e.g. a vLLM worker on Runpod, or any `/v1/chat/completions`),
//! used for decomposition, synthesis and critique when one is configured.
//!
//! `LLM_BASE_URL` (e.g. `https://api.runpod.ai/v2/<vllm-endpoint>/openai/v1`), `LLM_MODEL` and
//! `LLM_API_KEY` configure it; `OPENAI_BASE_URL`, `OPENAI_MODEL` and `OPENAI_API_KEY` work too.

use serde::Deserialize;

/// The chat API failed.
#[derive(Debug, thiserror::Error)]
#[error("the chat API at {url} failed: {message}")]
pub struct LlmError {
    /// The API.
    pub url: String,
    /// What happened.
    pub message: String,
}

/// A configured chat API.
#[derive(Debug, Clone)]
pub struct Llm {
    base: String,
    model: String,
    key: Option<String>,
}

fn var(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| std::env::var(n).ok().filter(|v| !v.trim().is_empty()))
}

impl Llm {
    /// The chat API from the environment, if one is configured.
    pub fn from_env() -> Option<Llm> {
        let base = var(&["LLM_BASE_URL", "OPENAI_BASE_URL"])?;
        Some(Llm {
            base: base.trim_end_matches('/').to_string(),
            model: var(&["LLM_MODEL", "OPENAI_MODEL"]).unwrap_or_else(|| "gpt-4o-mini".to_string()),
            key: var(&["LLM_API_KEY", "OPENAI_API_KEY"]),
        })
    }

    /// A description for reports.
    pub fn describe(&self) -> String {
        format!("{} at {}", self.model, self.base)
    }

    /// One chat completion.
    pub async fn chat(&self, system: &str, user: &str) -> Result<String, LlmError> {
        #[derive(Deserialize)]
        struct Message {
            content: Option<String>,
        }
        #[derive(Deserialize)]
        struct Choice {
            message: Message,
        }
        #[derive(Deserialize)]
        struct Resp {
            choices: Vec<Choice>,
        }
        let url = format!("{}/chat/completions", self.base);
        let fail = |message: String| LlmError {
            url: url.clone(),
            message,
        };
        let body = serde_json::json!({
            "model": self.model,
            "temperature": 0.2,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": user},
            ],
        });
        let mut req = crate::http_client()
            .post(&url)
            .timeout(std::time::Duration::from_secs(60))
            .json(&body);
        if let Some(k) = &self.key {
            req = req.bearer_auth(k);
        }
        let resp = req.send().await.map_err(|e| fail(e.to_string()))?;
        if !resp.status().is_success() {
            let status = resp.status();
            let text = resp.text().await.unwrap_or_default();
            return Err(fail(format!(
                "{status}: {}",
                text.chars().take(300).collect::<String>()
            )));
        }
        let resp: Resp = resp.json().await.map_err(|e| fail(e.to_string()))?;
        resp.choices
            .into_iter()
            .next()
            .and_then(|c| c.message.content)
            .filter(|c| !c.trim().is_empty())
            .ok_or_else(|| fail("the answer has no content".to_string()))
    }
}
