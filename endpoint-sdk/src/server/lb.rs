//! `/lb/{endpoint}/<path>`: a load-balancing endpoint's requests, any method, through the local
//! runtime's balancer. On the platform such an endpoint has a host of its own
//! (`https://{id}.api.runpod.ai/<path>`); here the prefix stands for the host and is removed,
//! so the app sees `/<path>` as it would there.

use axum::extract::{Request, State};

use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState};
use crate::local::RuntimeError;
use crate::protocol::load_balancer::BalancerError;

/// Every request no route matched: a load-balancing request (behind the API key, like every
/// route), or the API's 404.
pub(crate) async fn fallback(State(s): State<AppState>, req: Request) -> Response {
    if !req.uri().path().starts_with("/lb/") {
        return super::public::not_found().await.into_response();
    }
    if let Err(e) = super::auth::check(&s, req.headers()) {
        return e.into_response();
    }
    forward(s, req).await
}

async fn forward(s: AppState, req: Request) -> Response {
    let path = req.uri().path();
    let rest = path.strip_prefix("/lb/").unwrap_or_default();
    let (name, tail) = match rest.split_once('/') {
        Some((name, tail)) => (name.to_string(), format!("/{tail}")),
        None => (rest.to_string(), "/".to_string()),
    };
    let target = match req.uri().query() {
        Some(q) => format!("{tail}?{q}"),
        None => tail,
    };
    let uri = match target.parse::<Uri>() {
        Ok(uri) => uri,
        Err(e) => {
            return ApiError::bad_request(format!("bad path {target:?}: {e}")).into_response();
        }
    };
    match s.runtime.request(&name, as_on_the_platform(req, uri)).await {
        Ok(resp) => resp,
        Err(RuntimeError::NotLoadBalancing { .. }) => {
            let e = BalancerError::NotLoadBalancing;
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
            (status, axum::Json(e.body())).into_response()
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// The request as the app would get it from the platform's balancer: its path, method, headers
/// and body, and the connection's upgrade (a WebSocket); none of `app dev`'s own extensions
/// (its body limit, which would lift the app's, or its routing).
fn as_on_the_platform(req: Request, uri: Uri) -> Request {
    let (mut parts, body) = req.into_parts();
    let mut clean = Request::new(body);
    *clean.method_mut() = parts.method;
    *clean.uri_mut() = uri;
    *clean.version_mut() = parts.version;
    *clean.headers_mut() = parts.headers;
    if let Some(upgrade) = parts.extensions.remove::<hyper::upgrade::OnUpgrade>() {
        clean.extensions_mut().insert(upgrade);
    }
    clean
}
