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
            RuntimeError::QueueFull { .. } => StatusCode::TOO_MANY_REQUESTS,
            RuntimeError::NoTokio | RuntimeError::Registry(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.message, "status": self.status.as_u16() });
        let mut answer = (self.status, Json(body)).into_response();
        // A full queue empties as workers take jobs: say when to come back.
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            answer.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("1"),
            );
        }
        answer
    }
}
