//! The requests a worker makes to the platform: job-take, job-done, job-stream, job-stop. Each
//! is a small typed call; retries and back-off live here, not in the loop.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::env::WorkerEnv;
use super::urls::{Target, Urls};
use crate::protocol::job::{JobObject, TakenEntry, read_take};
use crate::protocol::{FailureKind, JobFailure};

/// What a job-take answered.
#[derive(Debug)]
pub enum Take {
    /// Jobs to run.
    Jobs(Vec<JobObject>),
    /// No job (204, 400 after a FlashBoot resume, an empty body).
    Empty,
    /// The platform cannot be used right now; wait before asking again.
    Unavailable {
        /// What went wrong, for the log.
        reason: String,
        /// Whether the platform asked to slow down (429).
        throttled: bool,
    },
}

/// The worker's HTTP client to the platform (shared: a clone is a reference count).
#[derive(Clone)]
pub struct Platform(Arc<Inner>);

struct Inner {
    http: reqwest::Client,
    env: WorkerEnv,
    urls: Urls,
}

/// How long a long poll may stay open before the worker gives up and asks again (as the
/// Python SDK does).
const LONG_POLL: Duration = Duration::from_secs(90);

impl Platform {
    /// A client for the platform described by `env`.
    pub fn new(env: WorkerEnv) -> Self {
        Platform::with_client(env, crate::http::client())
    }

    /// A client for the platform with connections of its own (see [`crate::http::new_client`]).
    pub fn with_own_connections(env: WorkerEnv) -> Self {
        Platform::with_client(env, crate::http::new_client())
    }

    fn with_client(env: WorkerEnv, http: reqwest::Client) -> Self {
        Platform(Arc::new(Inner {
            http,
            urls: Urls::new(&env),
            env,
        }))
    }

    /// The environment.
    pub fn env(&self) -> &WorkerEnv {
        &self.0.env
    }

    fn get(&self, url: Target) -> reqwest::RequestBuilder {
        let req = url.request(&self.0.http, Method::GET);
        match &self.0.env.api_key {
            Some(k) => req.header(AUTHORIZATION, k),
            None => req,
        }
    }

    fn post(&self, url: Target, job: &str, body: axum::body::Bytes) -> reqwest::RequestBuilder {
        let req = url
            .request(&self.0.http, Method::POST)
            .header(CONTENT_TYPE, "application/json")
            .header("X-Request-ID", job)
            .body(body);
        match &self.0.env.api_key {
            Some(k) => req.header(AUTHORIZATION, k),
            None => req,
        }
    }

    /// Asks for up to `batch` jobs (long poll).
    pub async fn take(&self, batch: usize, job_in_progress: bool) -> Take {
        let url = self.0.urls.take(batch, job_in_progress);
        let resp = match self.get(url).timeout(LONG_POLL).send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return Take::Empty,
            Err(e) => {
                return Take::Unavailable {
                    reason: format!("job-take failed: {}", describe(&e)),
                    throttled: false,
                };
            }
        };
        let status = resp.status();
        match status {
            StatusCode::NO_CONTENT | StatusCode::BAD_REQUEST => return Take::Empty,
            StatusCode::TOO_MANY_REQUESTS => {
                return Take::Unavailable {
                    reason: "job-take answered 429 (too many requests)".into(),
                    throttled: true,
                };
            }
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                return Take::Unavailable {
                    reason: format!(
                        "job-take answered {status}: RUNPOD_AI_API_KEY is missing or not valid"
                    ),
                    throttled: false,
                };
            }
            s if !s.is_success() => {
                return Take::Unavailable {
                    reason: format!("job-take answered {status}"),
                    throttled: false,
                };
            }
            _ => {}
        }
        let bytes = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => {
                return Take::Unavailable {
                    reason: format!("job-take body could not be read: {}", describe(&e)),
                    throttled: false,
                };
            }
        };
        let mut jobs = Vec::new();
        for entry in read_take(&bytes) {
            match entry {
                TakenEntry::Job(job) => jobs.push(job),
                TakenEntry::NoInput(id) => {
                    tracing::error!(job = %id, "Job has missing field(s): id or input.");
                    let body = serde_json::json!({ "error": JobFailure::new(
                        FailureKind::Input,
                        "the job has no `input`; send {\"input\": {...}}",
                    ).to_wire() });
                    let _ = self.done(&id, &body, false).await;
                }
                TakenEntry::NoId => tracing::error!("Job has missing field(s): id or input."),
            }
        }
        if jobs.is_empty() {
            Take::Empty
        } else {
            Take::Jobs(jobs)
        }
    }

    /// Long-polls the job-stop channel: the ids of jobs this worker must stop. `None` when the
    /// channel is unavailable (older platforms answer 404).
    pub async fn stops(&self) -> Option<Vec<String>> {
        let resp = self
            .get(Target::Text(self.0.env.stop_url()))
            .timeout(LONG_POLL)
            .send()
            .await;
        match resp {
            Ok(r) if r.status() == StatusCode::OK => {
                let v: Value = r.json().await.ok()?;
                Some(
                    v.get("jobsToStop")?
                        .as_array()?
                        .iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect(),
                )
            }
            Ok(r) if r.status() == StatusCode::NO_CONTENT => Some(Vec::new()),
            Ok(_) => None,
            Err(e) if e.is_timeout() => Some(Vec::new()),
            Err(_) => None,
        }
    }

    /// Posts a job's final body, retrying transport errors, 429 and 5xx with back-off for up
    /// to about 30 s. Returns what went wrong if it never got through.
    pub async fn done(&self, job: &str, body: &Value, is_stream: bool) -> Result<(), PostError> {
        let bytes = serde_json::to_vec(body).expect("a JSON value serializes");
        self.done_body(job, bytes, is_stream).await
    }

    /// [`done`](Self::done) with the body already serialized.
    pub async fn done_body(
        &self,
        job: &str,
        body: Vec<u8>,
        is_stream: bool,
    ) -> Result<(), PostError> {
        let url = || self.0.urls.done(job, is_stream);
        self.post_with_retries(url, job, body, "job-done").await
    }

    /// Posts a progress update (to the job-done URL, status `IN_PROGRESS`).
    pub async fn progress(&self, job: &str, output: &Value) -> Result<(), PostError> {
        let url = || self.0.urls.done(job, false);
        let body = serde_json::json!({ "status": "IN_PROGRESS", "output": output });
        let bytes = serde_json::to_vec(&body).expect("a JSON value serializes");
        self.post_with_retries(url, job, bytes, "progress").await
    }

    /// Posts a stream chunk's body as it is: one chunk, or several gathered while a post was in
    /// flight (see [`crate::protocol::batch::post_body`]).
    pub async fn stream_body(&self, job: &str, body: Vec<u8>) -> Result<(), PostError> {
        let url = || self.0.urls.stream(job);
        self.post_with_retries(url, job, body, "job-stream").await
    }

    async fn post_with_retries(
        &self,
        url: impl Fn() -> Target,
        job: &str,
        body: Vec<u8>,
        what: &'static str,
    ) -> Result<(), PostError> {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
        let give_up = Instant::now() + Duration::from_secs(30);
        // Shared, not copied, by each attempt.
        let body = axum::body::Bytes::from(body);
        loop {
            let outcome = self
                .post(url(), job, body.clone())
                .timeout(Duration::from_secs(30))
                .send()
                .await;
            let error = match outcome {
                Ok(r) if r.status().is_success() => return Ok(()),
                Ok(r)
                    if r.status() == StatusCode::TOO_MANY_REQUESTS
                        || r.status().is_server_error() =>
                {
                    format!("{what} answered {}", r.status())
                }
                Ok(r) => {
                    let status = r.status();
                    let text = r.text().await.unwrap_or_default();
                    return Err(PostError::Refused {
                        what,
                        status: status.as_u16(),
                        body: crate::http::snippet(&text),
                    });
                }
                Err(e) => format!("{what} failed: {}", describe(&e)),
            };
            let wait = backoff.next_wait();
            if Instant::now() + wait > give_up {
                return Err(PostError::GaveUp { what, last: error });
            }
            tracing::warn!(job, "{error}; retrying in {wait:?}");
            tokio::time::sleep(wait).await;
        }
    }
}

/// A post to the platform that did not get through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostError {
    /// The platform refused it (a 4xx other than 429): retrying would not help.
    #[error("{what} answered {status}: {body}")]
    Refused {
        /// `job-done`, `progress` or `job-stream`.
        what: &'static str,
        /// The HTTP status.
        status: u16,
        /// The start of its answer.
        body: String,
    },
    /// It kept failing (transport errors, 429, 5xx) for the 30 s the worker retries.
    #[error("{last}; gave up on {what} after retrying for 30 s (is the platform reachable?)")]
    GaveUp {
        /// `job-done`, `progress` or `job-stream`.
        what: &'static str,
        /// The last failure.
        last: String,
    },
}

/// A transport error with its causes (URLs carry no secret: the key travels in a header).
fn describe(e: &reqwest::Error) -> String {
    crate::http::error_chain(e)
}

/// Exponential back-off with full jitter.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    /// Starts at `base`, doubling up to `max`.
    pub fn new(base: Duration, max: Duration) -> Self {
        Backoff {
            base,
            max,
            attempt: 0,
        }
    }

    /// The next wait: a random duration up to `min(max, base × 2^attempt)`, at least `base / 2`.
    pub fn next_wait(&mut self) -> Duration {
        let cap = self
            .base
            .saturating_mul(1u32 << self.attempt.min(16))
            .min(self.max);
        self.attempt += 1;
        let lo = self.base / 2;
        let span = cap.saturating_sub(lo).as_millis() as u64;
        lo + Duration::from_millis(fastrand::u64(0..=span))
    }

    /// Back to the first step.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}
