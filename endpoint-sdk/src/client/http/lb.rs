//! Requests to load-balancing endpoints over HTTP: where each one lives (on the platform its own
//! host, `https://{id}.api.runpod.ai`; under `app dev`, `/lb/{name}` beside `/v2`), and the
//! request passed on with the API key, its answer's body streamed as it arrives.

use axum::body::{Body, Bytes};
use axum::http::{Request, Response};

use super::{CLOUD_BASE, HttpRoutes, HttpTransport};
use crate::client::TransportError;
use crate::protocol::load_balancer::PAYLOAD_LIMIT;
use crate::protocol::vars::endpoint_suffix;

impl HttpRoutes {
    /// The base URL of load-balancing endpoint `name`: `ENDPOINT_URL_<NAME>` if set; on the
    /// cloud, its host from its id; under another base (`app dev`'s `…/v2`), `…/lb/{name}`.
    pub(crate) fn lb_url(&self, name: &str) -> String {
        let suffix = endpoint_suffix(name);
        if let Some(url) = self.urls.get(&suffix) {
            return url.clone();
        }
        let id = self.ids.get(&suffix).map_or(name, String::as_str);
        if self.base == CLOUD_BASE {
            return format!("https://{id}.api.runpod.ai");
        }
        let root = self.base.strip_suffix("/v2").unwrap_or(&self.base);
        format!("{root}/lb/{id}")
    }
}

impl HttpTransport {
    /// Sends `request` to load-balancing endpoint `endpoint`.
    pub(super) async fn lb_request(
        &self,
        endpoint: &str,
        request: Request<Body>,
    ) -> Result<Response<Body>, TransportError> {
        let (parts, body) = request.into_parts();
        let bytes = axum::body::to_bytes(body, PAYLOAD_LIMIT)
            .await
            .map_err(|e| TransportError::Rejected {
                status: Some(413),
                message: format!("the request body could not be read or is over 30 MB: {e}"),
            })?;
        let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let url = format!("{}{path}", self.routes.lb_url(endpoint));
        let mut send = self
            .http
            .request(parts.method, &url)
            .headers(parts.headers.clone())
            .body(bytes);
        if let (Some(key), false) = (
            &self.routes.api_key,
            parts
                .headers
                .contains_key(axum::http::header::AUTHORIZATION),
        ) {
            send = send.bearer_auth(key);
        }
        let resp = send.send().await.map_err(|e| {
            let message = format!("{url}: {e}");
            let e = if e.is_connect() {
                TransportError::not_acted_on(message)
            } else {
                TransportError::unavailable(message)
            };
            self.routes.hint(e)
        })?;
        let mut out = Response::builder().status(resp.status());
        if let Some(h) = out.headers_mut() {
            h.extend(resp.headers().clone());
        }
        let chunks = futures_util::stream::unfold(Some(resp), |resp| async move {
            let mut resp = resp?;
            match resp.chunk().await {
                Ok(Some(c)) => Some((Ok::<Bytes, reqwest::Error>(c), Some(resp))),
                Ok(None) => None,
                Err(e) => Some((Err(e), None)),
            }
        });
        out.body(Body::from_stream(chunks))
            .map_err(|e| TransportError::unavailable(format!("{url}: a bad answer: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_load_balancing_endpoint_lives_on_its_host_or_beside_app_devs_api() {
        let cloud = HttpRoutes::new(CLOUD_BASE).id("chat", "abc123");
        assert_eq!(cloud.lb_url("chat"), "https://abc123.api.runpod.ai");
        let dev = HttpRoutes::new("http://127.0.0.1:8000/v2");
        assert_eq!(dev.lb_url("chat"), "http://127.0.0.1:8000/lb/chat");
        let pinned = dev.url("chat", "http://10.0.0.5:8080/");
        assert_eq!(pinned.lb_url("chat"), "http://10.0.0.5:8080");
    }
}
