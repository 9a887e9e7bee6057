//! The optional API key, compared in constant time.

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use subtle::ConstantTimeEq;

use super::{ApiError, AppState};

fn key_matches(given: &str, expected: &str) -> bool {
    given.as_bytes().ct_eq(expected.as_bytes()).into()
}

/// The credential in `Authorization`, with or without the `Bearer ` prefix.
fn presented(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    Some(value.strip_prefix("Bearer ").map_or(value, str::trim))
}

pub(crate) fn check(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(expected) = &state.api_key else {
        return Ok(());
    };
    match presented(headers) {
        Some(given) if key_matches(given, expected) => Ok(()),
        Some(_) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "the API key is not valid for this server; check RUNPOD_API_KEY or --api-key",
        )),
        None => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "this server needs an API key: send `Authorization: Bearer <key>`",
        )),
    }
}

/// Checks the API key: clients send `Authorization: Bearer <key>`, workers the raw key
/// (`Authorization: <key>`, as the Python SDK does); both are accepted on every route.
pub(crate) async fn require_key(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    check(&state, req.headers())?;
    Ok(next.run(req).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_compare_exactly() {
        assert!(key_matches("abc", "abc"));
        assert!(!key_matches("abd", "abc"));
        assert!(!key_matches("ab", "abc"));
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, "Bearer  k1".parse().unwrap());
        assert_eq!(presented(&h), Some("k1"));
        h.insert(AUTHORIZATION, "k2".parse().unwrap());
        assert_eq!(presented(&h), Some("k2"));
    }
}
