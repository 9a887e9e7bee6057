//! An OpenAI-compatible chat API (e.g. a vLLM worker on Runpod, or any `/v1/chat/completions`),
//! used for decomposition, synthesis and critique when one is configured.
//!
//! `LLM_BASE_URL` (e.g. `https://api.runpod.ai/v2/<vllm-endpoint>/openai/v1`), `LLM_MODEL` and
//! `LLM_API_KEY` configure it; `OPENAI_BASE_URL`, `OPENAI_MODEL` and `OPENAI_API_KEY` work too.

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

    /// One chat completion, streamed (`"stream": true`, server-sent events): each piece of the
    /// answer goes to `on_token` as it is written; the whole answer is returned. A server that
    /// answers in one JSON body instead gives one piece.
    pub async fn chat_stream(
        &self,
        system: &str,
        user: &str,
        on_token: &mut (dyn FnMut(String) + Send),
    ) -> Result<String, LlmError> {
        let url = format!("{}/chat/completions", self.base);
        let fail = |message: String| LlmError {
            url: url.clone(),
            message,
        };
        let mut resp = self.send(&url, system, user, true).await?;
        let is_sse = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if !is_sse {
            let text = Self::content(resp.json().await.map_err(|e| fail(e.to_string()))?)
                .ok_or_else(|| fail("the answer has no content".to_string()))?;
            on_token(text.clone());
            return Ok(text);
        }
        let (mut pending, mut answer) = (String::new(), String::new());
        while let Some(bytes) = resp.chunk().await.map_err(|e| fail(e.to_string()))? {
            pending.push_str(&String::from_utf8_lossy(&bytes));
            while let Some(end) = pending.find('\n') {
                let line: String = pending.drain(..=end).collect();
                let Some(data) = line.trim().strip_prefix("data:").map(str::trim) else {
                    continue;
                };
                if data == "[DONE]" {
                    return Ok(answer);
                }
                let delta = serde_json::from_str::<serde_json::Value>(data)
                    .ok()
                    .and_then(|v| {
                        v["choices"][0]["delta"]["content"]
                            .as_str()
                            .map(str::to_string)
                    });
                if let Some(piece) = delta.filter(|p| !p.is_empty()) {
                    answer.push_str(&piece);
                    on_token(piece);
                }
            }
        }
        Ok(answer)
    }

    /// Sends a chat request; an answer that is not a success is an error.
    async fn send(
        &self,
        url: &str,
        system: &str,
        user: &str,
        stream: bool,
    ) -> Result<reqwest::Response, LlmError> {
        let fail = |message: String| LlmError {
            url: url.to_string(),
            message,
        };
        let body = serde_json::json!({
            "model": self.model,
            "temperature": 0.2,
            "stream": stream,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": user},
            ],
        });
        let mut req = crate::http_client()
            .post(url)
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
        Ok(resp)
    }

    /// The first choice's content of a non-streamed answer.
    fn content(v: serde_json::Value) -> Option<String> {
        v["choices"][0]["message"]["content"]
            .as_str()
            .filter(|c| !c.trim().is_empty())
            .map(str::to_string)
    }

    /// One chat completion.
    pub async fn chat(&self, system: &str, user: &str) -> Result<String, LlmError> {
        let url = format!("{}/chat/completions", self.base);
        let fail = |message: String| LlmError {
            url: url.clone(),
            message,
        };
        let resp = self.send(&url, system, user, false).await?;
        Self::content(resp.json().await.map_err(|e| fail(e.to_string()))?)
            .ok_or_else(|| fail("the answer has no content".to_string()))
    }
}
