//! One chat request on the wire: the checks every call makes (declared, a step, an address,
//! the deadline), the attempts with their back-off, and the streamed answer read as
//! server-sent events.

use std::collections::VecDeque;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::{ChatAnswer, ChatError, ChatRequest, Usage};
use crate::client::record::CallRecorder;
use crate::client::sse::{SseEvent, drain_events, last_event};
use crate::external::Address;
use crate::protocol::trace_context::SpanId;

/// How one attempt failed.
enum Failure {
    /// Nothing reached the caller, and it may pass: another attempt may be made (after at
    /// least the server's `Retry-After`).
    Retryable {
        error: ChatError,
        retry_after: Option<Duration>,
    },
    /// Final.
    Final(ChatError),
}

/// The request, from the checks to the whole answer. Pieces go to `tx` as they arrive.
pub(super) async fn run(
    req: ChatRequest,
    tx: mpsc::Sender<String>,
) -> Result<ChatAnswer, ChatError> {
    let endpoint = req.spec.name.to_string();
    let scope = &req.scope;
    if let Some(caller) = scope.undeclared(&endpoint) {
        return Err(ChatError::Undeclared {
            caller,
            callee: endpoint,
        });
    }
    scope
        .take_step()
        .map_err(|limit| ChatError::StepBudgetExhausted {
            endpoint: endpoint.clone(),
            limit,
        })?;
    let address = req.spec.address().ok_or_else(|| ChatError::NotConfigured {
        endpoint: endpoint.clone(),
        how: req.spec.how_to_configure(),
    })?;
    let model = req
        .model
        .clone()
        .or_else(|| req.spec.model())
        .ok_or_else(|| ChatError::NoModel {
            endpoint: endpoint.clone(),
        })?;
    let span = SpanId::random();
    let mut recorder = CallRecorder::new(
        scope.client.trace.clone(),
        req.spec.name,
        span,
        Instant::now(),
    );
    // The sooner of the caller's deadline and the request's own limit, and which one it is.
    let own = req.timeout.map(|t| (Instant::now() + t, t));
    let (deadline, limit) = match (scope.deadline, own) {
        (Some(d), Some((o, _))) if d <= o => (Some(d), "the caller's deadline".to_string()),
        (_, Some((o, t))) => (
            Some(o),
            format!(
                "its own limit of {} ms (the external's `execution_timeout_ms`, or the request's \
                 `.timeout(..)`)",
                t.as_millis()
            ),
        ),
        (d, None) => (d, "the caller's deadline".to_string()),
    };
    let mut tokens = 0usize;
    let attempts = Attempts {
        req: &req,
        address: &address,
        model: &model,
        span,
        tx: &tx,
    };
    let work = attempts.all(&mut recorder, &mut tokens);
    let cancelled = scope.cancel.cancelled();
    let result = tokio::select! {
        r = async {
            match deadline {
                Some(d) => tokio::time::timeout_at(d, work).await.unwrap_or(Err(ChatError::DeadlineExceeded {
                    endpoint: endpoint.clone(),
                    tokens: 0,
                    limit: limit.clone(),
                })),
                None => work.await,
            }
        } => r,
        () = cancelled => Err(ChatError::Cancelled { endpoint: endpoint.clone() }),
    };
    // The count of pieces lives in `tokens` only once the attempt's future is gone.
    let result = match result {
        Err(ChatError::DeadlineExceeded {
            endpoint, limit, ..
        }) => Err(ChatError::DeadlineExceeded {
            endpoint,
            tokens,
            limit,
        }),
        other => other,
    };
    recorder.finish_plain(result.as_ref().err().map(ToString::to_string));
    result
}

/// What every attempt shares.
struct Attempts<'a> {
    req: &'a ChatRequest,
    address: &'a Address,
    model: &'a str,
    span: SpanId,
    tx: &'a mpsc::Sender<String>,
}

impl Attempts<'_> {
    /// Attempts until one answers, one fails for good, or the policy's attempts are spent.
    async fn all(
        &self,
        recorder: &mut CallRecorder,
        tokens: &mut usize,
    ) -> Result<ChatAnswer, ChatError> {
        let policy = &self.req.retry;
        let mut attempt = 0;
        loop {
            attempt += 1;
            recorder.progress.sent = attempt;
            match self.one(attempt, tokens).await {
                Ok(answer) => return Ok(answer),
                Err(Failure::Final(e)) => return Err(e),
                Err(Failure::Retryable { error, retry_after }) => {
                    if attempt >= policy.max_attempts.max(1) {
                        return Err(error);
                    }
                    let wait = policy.backoff(attempt).max(retry_after.unwrap_or_default());
                    tracing::debug!(
                        endpoint = self.req.spec.name,
                        attempt,
                        ?wait,
                        "retrying: {error}"
                    );
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// One request and its answer.
    async fn one(&self, attempt: u32, tokens: &mut usize) -> Result<ChatAnswer, Failure> {
        let endpoint = self.req.spec.name.to_string();
        let url = format!("{}/chat/completions", self.address.base);
        let mut body = self.req.params.clone();
        body.insert("model".into(), json!(self.model));
        body.insert("messages".into(), json!(self.req.messages));
        body.insert("stream".into(), json!(true));
        let traceparent = self.req.scope.client.trace.context_for(self.span);
        let mut request = crate::http::client()
            .post(&url)
            .header("traceparent", traceparent.to_string())
            .json(&body);
        if let Some(key) = &self.address.key {
            request = request.bearer_auth(key);
        }
        let unreachable = |message: String| ChatError::Unreachable {
            endpoint: endpoint.clone(),
            url: url.clone(),
            attempts: attempt,
            message,
        };
        let resp = request.send().await.map_err(|e| Failure::Retryable {
            error: unreachable(crate::http::error_chain(&e)),
            retry_after: None,
        })?;
        let status = resp.status().as_u16();
        if !resp.status().is_success() {
            let retry_after = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok())
                .map(Duration::from_secs);
            let text = resp.text().await.unwrap_or_default();
            let error = ChatError::Status {
                endpoint,
                status,
                attempts: attempt,
                body: crate::http::snippet(&text),
            };
            return Err(if matches!(status, 429 | 502 | 503 | 504) {
                Failure::Retryable { error, retry_after }
            } else {
                Failure::Final(error)
            });
        }
        let is_sse = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        let mut answer = if is_sse {
            self.read_stream(resp, attempt, tokens).await?
        } else {
            self.read_whole(resp, attempt, tokens).await?
        };
        answer.attempts = attempt;
        Ok(answer)
    }

    /// A non-streamed answer: one piece.
    async fn read_whole(
        &self,
        resp: reqwest::Response,
        attempt: u32,
        tokens: &mut usize,
    ) -> Result<ChatAnswer, Failure> {
        let endpoint = self.req.spec.name.to_string();
        let value: Value = resp.json().await.map_err(|e| Failure::Retryable {
            error: ChatError::Unreachable {
                endpoint: endpoint.clone(),
                url: self.address.base.clone(),
                attempts: attempt,
                message: format!("the answer was cut off or is not JSON: {e}"),
            },
            retry_after: None,
        })?;
        let content = value["choices"][0]["message"]["content"]
            .as_str()
            .ok_or_else(|| {
                Failure::Final(ChatError::Invalid {
                    endpoint,
                    message: format!(
                        "no `choices[0].message.content` in {}",
                        crate::http::snippet(&value.to_string())
                    ),
                })
            })?
            .to_string();
        *tokens += 1;
        let _ = self.tx.send(content.clone()).await;
        Ok(ChatAnswer {
            content,
            model: value["model"].as_str().map(str::to_string),
            finish_reason: value["choices"][0]["finish_reason"]
                .as_str()
                .map(str::to_string),
            usage: serde_json::from_value(value["usage"].clone()).ok(),
            attempts: attempt,
        })
    }

    /// A streamed answer, event by event, each piece sent on as it arrives.
    async fn read_stream(
        &self,
        mut resp: reqwest::Response,
        attempt: u32,
        tokens: &mut usize,
    ) -> Result<ChatAnswer, Failure> {
        let endpoint = self.req.spec.name.to_string();
        let (mut buffer, mut ready) = (Vec::new(), VecDeque::new());
        let mut answer = ChatAnswer::default();
        let broke = |message: String, tokens: usize| {
            if tokens == 0 {
                Failure::Retryable {
                    error: ChatError::Unreachable {
                        endpoint: endpoint.clone(),
                        url: self.address.base.clone(),
                        attempts: attempt,
                        message: format!("the answer broke off before its first token: {message}"),
                    },
                    retry_after: None,
                }
            } else {
                Failure::Final(ChatError::CutOff {
                    endpoint: endpoint.clone(),
                    tokens,
                    message,
                })
            }
        };
        loop {
            while let Some(event) = ready.pop_front() {
                if self.event(&event, &mut answer, tokens).await? {
                    return Ok(answer);
                }
            }
            match resp.chunk().await {
                Ok(Some(bytes)) => {
                    buffer.extend_from_slice(&bytes);
                    drain_events(&mut buffer, &mut ready);
                }
                Ok(None) => {
                    ready.extend(last_event(&std::mem::take(&mut buffer)));
                    while let Some(event) = ready.pop_front() {
                        if self.event(&event, &mut answer, tokens).await? {
                            return Ok(answer);
                        }
                    }
                    // No `[DONE]`: whole if the model said why it stopped.
                    if answer.finish_reason.is_some() {
                        return Ok(answer);
                    }
                    return Err(broke("the stream ended without `[DONE]`".into(), *tokens));
                }
                Err(e) => return Err(broke(crate::http::error_chain(&e), *tokens)),
            }
        }
    }

    /// One event of the stream: a piece (sent on), the end (`Ok(true)`), or an error.
    async fn event(
        &self,
        event: &SseEvent,
        answer: &mut ChatAnswer,
        tokens: &mut usize,
    ) -> Result<bool, Failure> {
        let data = event.data.trim();
        if data == "[DONE]" {
            return Ok(true);
        }
        if data.is_empty() {
            return Ok(false);
        }
        let invalid = |message: String| {
            Failure::Final(ChatError::Invalid {
                endpoint: self.req.spec.name.to_string(),
                message,
            })
        };
        let v: Value = serde_json::from_str(data).map_err(|e| {
            invalid(format!(
                "an event is not JSON ({e}): {}",
                crate::http::snippet(data)
            ))
        })?;
        if let Some(err) = v.get("error") {
            return Err(invalid(format!(
                "the server reported an error: {}",
                crate::http::snippet(&err.to_string())
            )));
        }
        if answer.model.is_none() {
            answer.model = v["model"].as_str().map(str::to_string);
        }
        if let Some(u) = v.get("usage").filter(|u| !u.is_null()) {
            answer.usage = serde_json::from_value::<Usage>(u.clone()).ok();
        }
        let choice = &v["choices"][0];
        if let Some(reason) = choice["finish_reason"].as_str() {
            answer.finish_reason = Some(reason.to_string());
        }
        if let Some(piece) = choice["delta"]["content"]
            .as_str()
            .filter(|p| !p.is_empty())
        {
            answer.content.push_str(piece);
            *tokens += 1;
            // A caller that only waits for the whole answer has closed its end.
            let _ = self.tx.send(piece.to_string()).await;
        }
        Ok(false)
    }
}
