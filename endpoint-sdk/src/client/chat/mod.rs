//! Chat requests to an external endpoint that speaks OpenAI's chat completions
//! (`#[external(api = openai)]`, see [`crate::external`]): `reasoning_model::chat(&ctx)` builds
//! a [`ChatRequest`]; [`send`](ChatRequest::send) gives the whole answer, and
//! [`stream`](ChatRequest::stream) each piece as the model writes it.
//!
//! A request carries what every call of the caller carries: it takes one step of the job's
//! `max_steps` (retries included), ends by the job's deadline, stops when the job is cancelled,
//! and is recorded as a call of the job's trace (a span, exported like the others, with its
//! `traceparent` sent to the server). It is streamed (`"stream": true`); a server that answers
//! in one JSON body gives one piece. It is retried, with back-off and within the deadline, only
//! while no piece of the answer has reached the caller: when the connection fails, or the
//! server answers 429, 502, 503 or 504 (after its `Retry-After`), or the stream breaks before
//! its first token. A chat completion has no side effect but its cost, so a retry never does
//! twice what the caller saw once; after a token, a failure is [`ChatError::CutOff`].

mod error;
mod exchange;

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

pub use error::ChatError;

use super::{CallScope, Caller, RetryPolicy};
use crate::external::{External, ExternalSpec};

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// The text.
    pub content: String,
}

/// Tokens counted by the server, when it says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens of the prompt.
    pub prompt_tokens: u64,
    /// Tokens of the answer.
    pub completion_tokens: u64,
}

/// A whole answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChatAnswer {
    /// The text.
    pub content: String,
    /// The model that answered, as the server names it.
    pub model: Option<String>,
    /// Why the model stopped (`stop`, `length`, ...).
    pub finish_reason: Option<String>,
    /// Tokens counted, when the server says.
    pub usage: Option<Usage>,
    /// Requests sent (more than one after retries).
    pub attempts: u32,
}

/// A chat request being built. Made by the generated `name::chat(&caller)`.
pub struct ChatRequest {
    scope: CallScope,
    spec: &'static ExternalSpec,
    messages: Vec<ChatMessage>,
    model: Option<String>,
    params: serde_json::Map<String, serde_json::Value>,
    retry: RetryPolicy,
    timeout: Option<Duration>,
}

impl ChatRequest {
    /// A request to external endpoint `E`, in `caller`'s scope.
    pub fn new<E: External>(caller: &impl Caller) -> Self {
        ChatRequest {
            scope: caller.call_scope(),
            spec: &E::SPEC,
            messages: Vec::new(),
            model: None,
            params: serde_json::Map::new(),
            retry: RetryPolicy::default(),
            timeout: E::CONFIG.execution_timeout(),
        }
    }

    /// Adds a message with `role`.
    pub fn message(mut self, role: impl Into<String>, content: impl Into<String>) -> Self {
        self.messages.push(ChatMessage {
            role: role.into(),
            content: content.into(),
        });
        self
    }

    /// Adds a system message.
    pub fn system(self, content: impl Into<String>) -> Self {
        self.message("system", content)
    }

    /// Adds a user message.
    pub fn user(self, content: impl Into<String>) -> Self {
        self.message("user", content)
    }

    /// Adds an assistant message (an earlier answer).
    pub fn assistant(self, content: impl Into<String>) -> Self {
        self.message("assistant", content)
    }

    /// The model to ask for (instead of the attribute's `model`).
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// `temperature`.
    pub fn temperature(self, t: f32) -> Self {
        self.param("temperature", serde_json::json!(t))
    }

    /// `max_tokens`: the longest answer.
    pub fn max_tokens(self, n: u32) -> Self {
        self.param("max_tokens", serde_json::json!(n))
    }

    /// Any other field of the request body (`top_p`, `stop`, `seed`, ...). `model`, `messages`
    /// and `stream` are the request's own.
    pub fn param(mut self, key: impl Into<String>, value: serde_json::Value) -> Self {
        self.params.insert(key.into(), value);
        self
    }

    /// Retries ([`RetryPolicy::none`] for none); by default 3 attempts.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Gives up after `timeout`, besides the caller's deadline (by default, the external's
    /// `execution_timeout_ms`, if it has one).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sends the request and waits for the whole answer.
    pub async fn send(self) -> Result<ChatAnswer, ChatError> {
        self.stream().answer().await
    }

    /// Sends the request; the answer's pieces arrive as the model writes them. Dropping the
    /// stream abandons the request.
    pub fn stream(self) -> ChatStream {
        let (tx, rx) = mpsc::channel(64);
        let task = tokio::spawn(exchange::run(self, tx));
        ChatStream {
            rx,
            task: Some(task),
        }
    }
}

/// An answer arriving piece by piece: a [`Stream`] of the pieces (a failure ends it with its
/// error), then [`answer`](ChatStream::answer) for the whole.
pub struct ChatStream {
    rx: mpsc::Receiver<String>,
    task: Option<tokio::task::JoinHandle<Result<ChatAnswer, ChatError>>>,
}

impl ChatStream {
    /// The next piece of the answer; `None` once it is whole (or failed: see
    /// [`answer`](ChatStream::answer)).
    pub async fn next_token(&mut self) -> Option<String> {
        self.rx.recv().await
    }

    /// Waits for the rest and gives the whole answer (with the pieces already taken), or why
    /// there is none.
    pub async fn answer(mut self) -> Result<ChatAnswer, ChatError> {
        self.rx.close();
        let task = self.task.take().expect("the task is taken only here");
        match task.await {
            Ok(answer) => answer,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => Err(ChatError::Invalid {
                endpoint: String::new(),
                message: format!("the request's task ended: {e}"),
            }),
        }
    }
}

impl Stream for ChatStream {
    type Item = String;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<String>> {
        self.rx.poll_recv(cx)
    }
}

impl Drop for ChatStream {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
