//! A small typed client for Runpod's management REST API v2 (`https://api.runpod.io/v2/...`):
//! the serverless endpoint and network volume routes that `deploy` needs, their JSON shapes, and
//! RFC 9457 problem details mapped to [`ManagementError`].
//! The JSON shapes are in [`remote`](super::remote).
//!
//! Why not a crate: the Rust crates that exist speak GraphQL or REST v1 (retired on 2026-11-15);
//! none speaks REST v2's shapes (`gpu.pools`, `cpu: [{id, vcpuCount}]`, `scaling` with a `type`
//! discriminator, wrapped lists, problem details). The shapes here follow the v2 OpenAPI spec as
//! summarised in the project's research notes (`management-api.md`).

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::remote::{
    CreateEndpointRequest, CreateVolumeRequest, RemoteEndpoint, RemoteVolume,
    UpdateEndpointRequest, UpdateVolumeRequest,
};

/// The management API's base URL (paths carry the `/v2` prefix).
pub const DEFAULT_API_URL: &str = "https://api.runpod.io";

/// How long one management request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// One management API request: what the dry run prints and what [`ManagementApi`] sends.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiRequest {
    /// `GET`, `POST`, `PATCH` or `DELETE`.
    pub method: Method,
    /// The path, from `/v2/...`.
    pub path: String,
    /// The JSON body, if any: pretty-printed, fields in the order the API documents them.
    pub body: Option<String>,
}

impl ApiRequest {
    fn new(method: Method, path: String, body: Option<String>) -> Self {
        ApiRequest { method, path, body }
    }

    /// `GET /v2/serverless`.
    pub fn list_endpoints() -> Self {
        Self::new(Method::GET, "/v2/serverless".into(), None)
    }

    /// `POST /v2/serverless`.
    pub fn create_endpoint(body: &CreateEndpointRequest) -> Self {
        Self::new(Method::POST, "/v2/serverless".into(), Some(to_text(body)))
    }

    /// `PATCH /v2/serverless/{id}`.
    pub fn update_endpoint(id: &str, body: &UpdateEndpointRequest) -> Self {
        Self::new(
            Method::PATCH,
            format!("/v2/serverless/{}", segment(id)),
            Some(to_text(body)),
        )
    }

    /// `DELETE /v2/serverless/{id}`.
    pub fn delete_endpoint(id: &str) -> Self {
        Self::new(
            Method::DELETE,
            format!("/v2/serverless/{}", segment(id)),
            None,
        )
    }

    /// `GET /v2/network-volumes`.
    pub fn list_volumes() -> Self {
        Self::new(Method::GET, "/v2/network-volumes".into(), None)
    }

    /// `POST /v2/network-volumes`.
    pub fn create_volume(body: &CreateVolumeRequest) -> Self {
        Self::new(
            Method::POST,
            "/v2/network-volumes".into(),
            Some(to_text(body)),
        )
    }

    /// `PATCH /v2/network-volumes/{id}`.
    pub fn update_volume(id: &str, body: &UpdateVolumeRequest) -> Self {
        Self::new(
            Method::PATCH,
            format!("/v2/network-volumes/{}", segment(id)),
            Some(to_text(body)),
        )
    }

    /// `METHOD path`, e.g. `POST /v2/serverless`.
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

fn to_text(body: &impl Serialize) -> String {
    serde_json::to_string_pretty(body).expect("request bodies always serialize")
}

/// A path segment, percent-encoded (ids are alphanumeric, but a path must never be bent by one).
fn segment(id: &str) -> String {
    crate::http::urlencode(id).replace(',', "%2C")
}

/// An RFC 9457 problem details body (`application/problem+json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Short summary, e.g. `Unprocessable Entity`.
    #[serde(default)]
    pub title: String,
    /// The HTTP status.
    #[serde(default)]
    pub status: u16,
    /// What went wrong.
    #[serde(default)]
    pub detail: String,
    /// Individual validation failures.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

impl Problem {
    fn describe(&self) -> String {
        let mut out = match (self.title.is_empty(), self.detail.is_empty()) {
            (false, false) => format!("{}: {}", self.title, self.detail),
            (false, true) => self.title.clone(),
            (true, false) => self.detail.clone(),
            (true, true) => "no details".to_string(),
        };
        if !self.errors.is_empty() {
            out.push_str(&format!(" [{}]", self.errors.join("; ")));
        }
        out
    }
}

/// A management API request failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ManagementError {
    /// 401: no key, or a key the API does not accept.
    #[error(
        "Runpod rejected the API key ({}): check RUNPOD_API_KEY (create a key with read/write \
         access under Settings → API Keys in the Runpod console)",
        .0.describe()
    )]
    Unauthorized(Problem),
    /// 403: the key may not do this.
    #[error(
        "the API key may not do this ({}): use a key with read/write access to Serverless \
         endpoints and network volumes",
        .0.describe()
    )]
    Forbidden(Problem),
    /// 402: the account's balance is too low.
    #[error("Runpod refused for lack of funds ({}): add credit to the account", .0.describe())]
    PaymentRequired(Problem),
    /// 404: an id the API does not know (deleted meanwhile?).
    #[error(
        "not found ({}): the endpoint or volume was deleted meanwhile? run deploy again to \
         re-read the account",
        .0.describe()
    )]
    NotFound(Problem),
    /// 400: the body passed the schema but broke a rule (or there is no capacity).
    #[error("Runpod refused the request ({})", .0.describe())]
    BadRequest(Problem),
    /// 422: the body broke the API's schema.
    #[error(
        "the request does not match the API's schema ({}): the API may have changed; please \
         report this with the dry run's output",
        .0.describe()
    )]
    Invalid(Problem),
    /// 429: too many requests.
    #[error(
        "rate limited by Runpod ({}): wait {} and run deploy again (it resumes where it stopped)",
        .problem.describe(),
        .retry_after_s.map_or("a minute".to_string(), |s| format!("{s} s"))
    )]
    RateLimited {
        /// The problem details.
        problem: Problem,
        /// `Retry-After`, seconds.
        retry_after_s: Option<u64>,
    },
    /// 5xx: the API failed.
    #[error(
        "Runpod's API failed ({status}: {}): try again in a moment; deploy is idempotent",
        .problem.describe()
    )]
    Server {
        /// The HTTP status.
        status: u16,
        /// The problem details (or the body's text).
        problem: Problem,
    },
    /// Any other status.
    #[error("unexpected answer {status} ({})", .problem.describe())]
    Status {
        /// The HTTP status.
        status: u16,
        /// The problem details (or the body's text).
        problem: Problem,
    },
    /// The API could not be reached.
    #[error("cannot reach the management API at {url}: {reason}; check the network or --api-url")]
    Unreachable {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// A success answer that is not the expected JSON.
    #[error("the answer to {request} is not what the API documents ({reason}): {body}")]
    Decode {
        /// `METHOD path`.
        request: String,
        /// The decoding error.
        reason: String,
        /// The start of the body.
        body: String,
    },
}

impl ManagementError {
    /// The HTTP status, if the API answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ManagementError::Unauthorized(p)
            | ManagementError::Forbidden(p)
            | ManagementError::PaymentRequired(p)
            | ManagementError::NotFound(p)
            | ManagementError::BadRequest(p)
            | ManagementError::Invalid(p) => Some(p.status),
            ManagementError::RateLimited { .. } => Some(429),
            ManagementError::Server { status, .. } | ManagementError::Status { status, .. } => {
                Some(*status)
            }
            ManagementError::Unreachable { .. } | ManagementError::Decode { .. } => None,
        }
    }

    fn from_status(status: StatusCode, retry_after_s: Option<u64>, body: &str) -> Self {
        let mut problem = serde_json::from_str::<Problem>(body).unwrap_or_else(|_| Problem {
            detail: crate::http::snippet(body),
            ..Problem::default()
        });
        if problem.status == 0 {
            problem.status = status.as_u16();
        }
        if problem.title.is_empty() {
            problem.title = status.canonical_reason().unwrap_or("").to_string();
        }
        match status.as_u16() {
            401 => ManagementError::Unauthorized(problem),
            403 => ManagementError::Forbidden(problem),
            402 => ManagementError::PaymentRequired(problem),
            404 => ManagementError::NotFound(problem),
            400 => ManagementError::BadRequest(problem),
            422 => ManagementError::Invalid(problem),
            429 => ManagementError::RateLimited {
                problem,
                retry_after_s,
            },
            s if s >= 500 => ManagementError::Server { status: s, problem },
            s => ManagementError::Status { status: s, problem },
        }
    }
}

/// The management API of one account.
#[derive(Clone)]
pub struct ManagementApi {
    base: String,
    api_key: String,
    http: reqwest::Client,
}

impl std::fmt::Debug for ManagementApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManagementApi")
            .field("base", &self.base)
            .field("api_key", &"<redacted>")
            .finish()
    }
}

impl ManagementApi {
    /// The API at `base` (e.g. [`DEFAULT_API_URL`], without `/v2`), authenticated with `api_key`.
    pub fn new(base: impl Into<String>, api_key: impl Into<String>) -> Self {
        ManagementApi {
            base: base.into().trim_end_matches('/').to_string(),
            api_key: api_key.into(),
            http: crate::http::client(),
        }
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Sends one request; `Ok(None)` for an answer without a body (204).
    pub async fn send(&self, req: &ApiRequest) -> Result<Option<Value>, ManagementError> {
        let url = format!("{}{}", self.base, req.path);
        let mut builder = self
            .http
            .request(req.method.clone(), &url)
            .bearer_auth(&self.api_key)
            .timeout(REQUEST_TIMEOUT);
        if let Some(body) = &req.body {
            builder = builder
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        let resp = builder.send().await.map_err(|e| {
            let reason = crate::http::error_chain(&e);
            ManagementError::Unreachable {
                url: url.clone(),
                reason,
            }
        })?;
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let text = resp.text().await.unwrap_or_default();
        if !status.is_success() {
            return Err(ManagementError::from_status(status, retry_after, &text));
        }
        if text.trim().is_empty() {
            return Ok(None);
        }
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| ManagementError::Decode {
                request: req.line(),
                reason: e.to_string(),
                body: crate::http::snippet(&text),
            })
    }

    async fn send_for<T: serde::de::DeserializeOwned>(
        &self,
        req: &ApiRequest,
        key: Option<&str>,
    ) -> Result<T, ManagementError> {
        let value = self.send(req).await?.unwrap_or(Value::Null);
        let value = match key {
            Some(k) => value.get(k).cloned().unwrap_or(Value::Null),
            None => value,
        };
        serde_json::from_value(value.clone()).map_err(|e| ManagementError::Decode {
            request: req.line(),
            reason: e.to_string(),
            body: crate::http::snippet(&value.to_string()),
        })
    }

    /// Every serverless endpoint of the account (`GET /v2/serverless`).
    pub async fn list_endpoints(&self) -> Result<Vec<RemoteEndpoint>, ManagementError> {
        self.send_for(&ApiRequest::list_endpoints(), Some("endpoints"))
            .await
    }

    /// Every network volume of the account (`GET /v2/network-volumes`).
    pub async fn list_volumes(&self) -> Result<Vec<RemoteVolume>, ManagementError> {
        self.send_for(&ApiRequest::list_volumes(), Some("networkVolumes"))
            .await
    }

    /// Sends a request whose answer is an endpoint (create, update).
    pub async fn send_endpoint(&self, req: &ApiRequest) -> Result<RemoteEndpoint, ManagementError> {
        self.send_for(req, None).await
    }

    /// Sends a request whose answer is a network volume (create, update).
    pub async fn send_volume(&self, req: &ApiRequest) -> Result<RemoteVolume, ManagementError> {
        self.send_for(req, None).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_details_map_to_actionable_errors() {
        let body = r#"{"title":"Unauthorized","status":401,"detail":"missing bearer token"}"#;
        let err = ManagementError::from_status(StatusCode::UNAUTHORIZED, None, body);
        assert_eq!(err.status(), Some(401));
        let msg = err.to_string();
        assert!(
            msg.starts_with("Runpod rejected the API key (Unauthorized: missing bearer token)"),
            "{msg}"
        );
        assert!(msg.contains("check RUNPOD_API_KEY"), "{msg}");

        let body = r#"{"title":"Unprocessable Entity","status":422,"detail":"Request validation failed.","errors":["$: additional properties 'bogus' not allowed"]}"#;
        let msg =
            ManagementError::from_status(StatusCode::UNPROCESSABLE_ENTITY, None, body).to_string();
        assert!(
            msg.contains("additional properties 'bogus' not allowed"),
            "{msg}"
        );

        let err = ManagementError::from_status(StatusCode::TOO_MANY_REQUESTS, Some(12), "");
        assert!(err.to_string().contains("wait 12 s"), "{err}");

        // Not problem details: the text is kept, the status named.
        let err =
            ManagementError::from_status(StatusCode::BAD_GATEWAY, None, "<html>bad gateway</html>");
        assert_eq!(err.status(), Some(502));
        assert!(
            err.to_string().contains("<html>bad gateway</html>"),
            "{err}"
        );
    }

    #[test]
    fn paths_are_percent_encoded() {
        assert_eq!(
            ApiRequest::delete_endpoint("a/b c").path,
            "/v2/serverless/a%2Fb%20c"
        );
    }
}
