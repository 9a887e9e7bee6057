//! Errors as the API answers them: the platform's status codes, and a JSON body whose `error`
//! says what happened and what to do.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::local::RuntimeError;

/// An error answered by the HTTP API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What happened and what to do.
    pub message: String,
}

impl ApiError {
    /// An error with `status` and `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// 400 Bad Request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }
}

impl From<RuntimeError> for ApiError {
    fn from(e: RuntimeError) -> Self {
        let status = match &e {
            RuntimeError::UnknownEndpoint { .. } | RuntimeError::UnknownJob { .. } => {
                StatusCode::NOT_FOUND
            }
            RuntimeError::Policy(_)
            | RuntimeError::NotRetryable { .. }
            | RuntimeError::LoadBalancing { .. }
            | RuntimeError::NotLoadBalancing { .. } => StatusCode::BAD_REQUEST,
            RuntimeError::QueueFull { .. } | RuntimeError::StreamFull { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            RuntimeError::Simulated { .. } => StatusCode::CONFLICT,
            RuntimeError::NoTokio | RuntimeError::Registry(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.message, "status": self.status.as_u16() });
        let mut answer = (self.status, Json(body)).into_response();
        // A full queue empties as workers take jobs, a full stream as its reader reads: say
        // when to come back.
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            answer.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("1"),
            );
        }
        answer
    }
}

/// Makes every error answer of the API JSON that says what was wrong: axum's own rejections (a
/// query string or path that does not parse, a method the route does not take) are plain text
/// or empty.
pub(crate) async fn json_errors(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    use axum::http::header::{ALLOW, CONTENT_TYPE};
    let (method, path) = (req.method().clone(), req.uri().path().to_string());
    let answer = next.run(req).await;
    let status = answer.status();
    let is_json = answer
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return answer;
    }
    let allow = answer.headers().get(ALLOW).cloned();
    let (_, body) = answer.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).trim().to_string();
    let message = match (&allow, text.is_empty()) {
        (_, false) => text,
        (Some(methods), true) => format!(
            "{path} does not take {method}; it takes {}",
            methods.to_str().unwrap_or("other methods")
        ),
        (None, true) if status == StatusCode::METHOD_NOT_ALLOWED => {
            format!("{path} does not take {method}")
        }
        (None, true) => format!("{path}: {}", status.canonical_reason().unwrap_or("error")),
    };
    let mut out = ApiError::new(status, message).into_response();
    if let Some(methods) = allow {
        out.headers_mut().insert(ALLOW, methods);
    }
    out
}
