//! A small typed client for Runpod's management REST API v2 (`https://api.runpod.io/v2/...`):
//! the serverless endpoint and network volume routes that `deploy` needs, their JSON shapes, and
//! RFC 9457 problem details mapped to [`ApiError`].
//!
//! Why not a crate: the Rust crates that exist speak GraphQL or REST v1 (retired on 2026-11-15);
//! none speaks REST v2's shapes (`gpu.pools`, `cpu: [{id, vcpuCount}]`, `scaling` with a `type`
//! discriminator, wrapped lists, problem details). The shapes here follow the v2 OpenAPI spec as
//! summarised in the project's research notes (`management-api.md`).

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The management API's base URL (paths carry the `/v2` prefix).
pub const DEFAULT_API_URL: &str = "https://api.runpod.io";

/// How long one management request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// `type` of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EndpointType {
    /// Queue-based: `/run`, `/runsync`, workers take jobs. The only kind this SDK deploys.
    Queue,
    /// Load balancer: HTTP straight to workers.
    LoadBalancer,
}

/// `scaling`: when the platform adds workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Scaling {
    /// Add a worker when a job has waited this many seconds.
    QueueDelay {
        /// Seconds (the API takes ≥ 0.5; the attribute whole seconds ≥ 1).
        #[serde(rename = "queueDelay")]
        queue_delay: u32,
    },
    /// Keep `ceil(jobs / requestCount)` workers.
    RequestCount {
        /// Jobs per worker (≥ 1).
        #[serde(rename = "requestCount")]
        request_count: u32,
    },
}

/// `flashboot`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Flashboot {
    /// No FlashBoot.
    Off,
    /// FlashBoot on.
    Flashboot,
    /// FlashBoot with priority capacity.
    PriorityFlashboot,
}

/// `gpu`: the GPU selection of an endpoint (request and response).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GpuConfig {
    /// Pool ids (`AMPERE_80`); workers go to whichever listed pool has capacity.
    pub pools: Vec<String>,
    /// GPU type ids subtracted from the pools (how one type of a pool is pinned).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excluded_types: Vec<String>,
    /// GPUs per worker.
    #[serde(default = "one")]
    pub count: u32,
    /// Exact CUDA versions allowed; `[]` clears the constraint. Never set together with a
    /// non-empty [`min_cuda_version`](Self::min_cuda_version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_cuda_versions: Option<Vec<String>>,
    /// The oldest CUDA version a host may have (`"12.8"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_cuda_version: Option<String>,
}

fn one() -> u32 {
    1
}

/// One entry of `cpu`: a flavor family and a vCPU count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CpuConfig {
    /// The flavor family, e.g. `cpu5c`.
    pub id: String,
    /// vCPUs per worker (a power of two, at least 2).
    pub vcpu_count: u32,
}

/// `workers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkersConfig {
    /// Always-on workers.
    pub min: u32,
    /// Most workers.
    pub max: u32,
    /// Seconds an idle worker stays up. Absent with the `REQUEST_COUNT` scaler on a queue
    /// endpoint (the API rejects it there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<u32>,
}

/// `POST /v2/serverless`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateEndpointRequest {
    /// The endpoint's name.
    pub name: String,
    /// Queue or load balancer.
    #[serde(rename = "type")]
    pub kind: EndpointType,
    /// The container image.
    pub image: String,
    /// Environment variables of every worker.
    pub env: BTreeMap<String, String>,
    /// GPU selection (GPU endpoints).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu: Option<GpuConfig>,
    /// CPU selection (CPU endpoints).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<Vec<CpuConfig>>,
    /// Worker bounds and idle timeout.
    pub workers: WorkersConfig,
    /// The scaler.
    pub scaling: Scaling,
    /// Data centers; empty lets the scheduler choose.
    pub data_center_ids: Vec<String>,
    /// Network volume ids.
    pub network_volumes: Vec<String>,
    /// Execution timeout of one job, in ms.
    pub timeout: u64,
    /// FlashBoot.
    pub flashboot: Flashboot,
}

/// `PATCH /v2/serverless/{id}`: only the fields present change (`env` replaces the whole map;
/// `gpu.pools` without `excludedTypes` clears the exclusions).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateEndpointRequest {
    /// The container image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Every environment variable (replaces the current map).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env: Option<BTreeMap<String, String>>,
    /// GPU selection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu: Option<GpuConfig>,
    /// CPU selection (replaces the current one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<Vec<CpuConfig>>,
    /// Worker bounds and idle timeout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workers: Option<WorkersConfig>,
    /// The scaler.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scaling: Option<Scaling>,
    /// Data centers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_center_ids: Option<Vec<String>>,
    /// Network volume ids.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_volumes: Option<Vec<String>>,
    /// Execution timeout, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
    /// FlashBoot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flashboot: Option<Flashboot>,
}

/// An endpoint as the API returns it. Lenient: fields this SDK does not manage are ignored, and
/// fields an older API version leaves out are `None`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    /// The platform id (what `/v2/{id}/run` takes).
    pub id: String,
    /// The name.
    pub name: String,
    /// `QUEUE` or `LOAD_BALANCER`.
    #[serde(rename = "type", default)]
    pub kind: Option<EndpointType>,
    /// The image.
    #[serde(default)]
    pub image: Option<String>,
    /// Environment variables.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// GPU selection (GPU endpoints).
    #[serde(default)]
    pub gpu: Option<GpuConfig>,
    /// CPU selection (CPU endpoints).
    #[serde(default)]
    pub cpu: Option<Vec<CpuConfig>>,
    /// Worker bounds.
    #[serde(default)]
    pub workers: Option<WorkersConfig>,
    /// The scaler, kept as JSON: older API versions used another shape.
    #[serde(default)]
    pub scaling: Option<Value>,
    /// Data centers.
    #[serde(default)]
    pub data_center_ids: Vec<String>,
    /// Network volume ids.
    #[serde(default)]
    pub network_volumes: Vec<String>,
    /// Execution timeout, ms.
    #[serde(default)]
    pub timeout: Option<u64>,
    /// FlashBoot.
    #[serde(default)]
    pub flashboot: Option<Flashboot>,
}

impl Endpoint {
    /// Whether the endpoint runs on GPUs (it has a GPU selection and no CPU one).
    pub fn is_gpu(&self) -> bool {
        self.gpu.is_some() && self.cpu.as_ref().is_none_or(Vec::is_empty)
    }
}

/// `POST /v2/network-volumes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateVolumeRequest {
    /// The volume's name.
    pub name: String,
    /// Size in GB (10..=4096).
    pub size: u32,
    /// The data center it lives in.
    pub data_center: String,
}

/// `PATCH /v2/network-volumes/{id}` (size can only grow).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpdateVolumeRequest {
    /// The new size in GB.
    pub size: u32,
}

/// A network volume as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkVolume {
    /// The platform id (what an endpoint's `networkVolumes` takes).
    pub id: String,
    /// The name (not unique on the platform).
    pub name: String,
    /// Size in GB.
    pub size: u32,
    /// The data center.
    pub data_center: String,
}

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
pub enum ApiError {
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

impl ApiError {
    /// The HTTP status, if the API answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Unauthorized(p)
            | ApiError::Forbidden(p)
            | ApiError::PaymentRequired(p)
            | ApiError::NotFound(p)
            | ApiError::BadRequest(p)
            | ApiError::Invalid(p) => Some(p.status),
            ApiError::RateLimited { .. } => Some(429),
            ApiError::Server { status, .. } | ApiError::Status { status, .. } => Some(*status),
            ApiError::Unreachable { .. } | ApiError::Decode { .. } => None,
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
            401 => ApiError::Unauthorized(problem),
            403 => ApiError::Forbidden(problem),
            402 => ApiError::PaymentRequired(problem),
            404 => ApiError::NotFound(problem),
            400 => ApiError::BadRequest(problem),
            422 => ApiError::Invalid(problem),
            429 => ApiError::RateLimited {
                problem,
                retry_after_s,
            },
            s if s >= 500 => ApiError::Server { status: s, problem },
            s => ApiError::Status { status: s, problem },
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
    pub async fn send(&self, req: &ApiRequest) -> Result<Option<Value>, ApiError> {
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
            let mut reason = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                reason.push_str(&format!(": {s}"));
                src = s.source();
            }
            ApiError::Unreachable {
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
            return Err(ApiError::from_status(status, retry_after, &text));
        }
        if text.trim().is_empty() {
            return Ok(None);
        }
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| ApiError::Decode {
                request: req.line(),
                reason: e.to_string(),
                body: crate::http::snippet(&text),
            })
    }

    async fn send_for<T: serde::de::DeserializeOwned>(
        &self,
        req: &ApiRequest,
        key: Option<&str>,
    ) -> Result<T, ApiError> {
        let value = self.send(req).await?.unwrap_or(Value::Null);
        let value = match key {
            Some(k) => value.get(k).cloned().unwrap_or(Value::Null),
            None => value,
        };
        serde_json::from_value(value.clone()).map_err(|e| ApiError::Decode {
            request: req.line(),
            reason: e.to_string(),
            body: crate::http::snippet(&value.to_string()),
        })
    }

    /// Every serverless endpoint of the account (`GET /v2/serverless`).
    pub async fn list_endpoints(&self) -> Result<Vec<Endpoint>, ApiError> {
        self.send_for(&ApiRequest::list_endpoints(), Some("endpoints"))
            .await
    }

    /// Every network volume of the account (`GET /v2/network-volumes`).
    pub async fn list_volumes(&self) -> Result<Vec<NetworkVolume>, ApiError> {
        self.send_for(&ApiRequest::list_volumes(), Some("networkVolumes"))
            .await
    }

    /// Sends a request whose answer is an endpoint (create, update).
    pub async fn send_endpoint(&self, req: &ApiRequest) -> Result<Endpoint, ApiError> {
        self.send_for(req, None).await
    }

    /// Sends a request whose answer is a network volume (create, update).
    pub async fn send_volume(&self, req: &ApiRequest) -> Result<NetworkVolume, ApiError> {
        self.send_for(req, None).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_details_map_to_actionable_errors() {
        let body = r#"{"title":"Unauthorized","status":401,"detail":"missing bearer token"}"#;
        let err = ApiError::from_status(StatusCode::UNAUTHORIZED, None, body);
        assert_eq!(err.status(), Some(401));
        let msg = err.to_string();
        assert!(
            msg.starts_with("Runpod rejected the API key (Unauthorized: missing bearer token)"),
            "{msg}"
        );
        assert!(msg.contains("check RUNPOD_API_KEY"), "{msg}");

        let body = r#"{"title":"Unprocessable Entity","status":422,"detail":"Request validation failed.","errors":["$: additional properties 'bogus' not allowed"]}"#;
        let msg = ApiError::from_status(StatusCode::UNPROCESSABLE_ENTITY, None, body).to_string();
        assert!(
            msg.contains("additional properties 'bogus' not allowed"),
            "{msg}"
        );

        let err = ApiError::from_status(StatusCode::TOO_MANY_REQUESTS, Some(12), "");
        assert!(err.to_string().contains("wait 12 s"), "{err}");

        // Not problem details: the text is kept, the status named.
        let err = ApiError::from_status(StatusCode::BAD_GATEWAY, None, "<html>bad gateway</html>");
        assert_eq!(err.status(), Some(502));
        assert!(
            err.to_string().contains("<html>bad gateway</html>"),
            "{err}"
        );
    }

    #[test]
    fn bodies_use_the_v2_field_names() {
        let body = CreateEndpointRequest {
            name: "e".into(),
            kind: EndpointType::Queue,
            image: "i:1".into(),
            env: BTreeMap::new(),
            gpu: None,
            cpu: Some(vec![CpuConfig {
                id: "cpu5c".into(),
                vcpu_count: 4,
            }]),
            workers: WorkersConfig {
                min: 0,
                max: 2,
                idle_timeout: None,
            },
            scaling: Scaling::RequestCount { request_count: 3 },
            data_center_ids: vec![],
            network_volumes: vec![],
            timeout: 5000,
            flashboot: Flashboot::Off,
        };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({"name":"e","type":"QUEUE","image":"i:1","env":{},
                "cpu":[{"id":"cpu5c","vcpuCount":4}],"workers":{"min":0,"max":2},
                "scaling":{"type":"REQUEST_COUNT","requestCount":3},"dataCenterIds":[],
                "networkVolumes":[],"timeout":5000,"flashboot":"OFF"})
        );
        assert_eq!(
            ApiRequest::delete_endpoint("a/b c").path,
            "/v2/serverless/a%2Fb%20c"
        );
        assert_eq!(
            serde_json::to_value(UpdateEndpointRequest {
                timeout: Some(1),
                ..Default::default()
            })
            .unwrap(),
            serde_json::json!({"timeout": 1})
        );
    }
}
