//! The worker's Prometheus `/metrics`, opt-in on its own port (`ENDPOINT_METRICS_PORT`): its
//! jobs by final status and their execution times, jobs in progress, stream chunks, calls'
//! retries, and a load-balancing worker's requests.

use std::net::SocketAddr;

use axum::Router;
use axum::response::IntoResponse;
use axum::routing::get;

use super::EnvError;
use crate::protocol::vars::ENDPOINT_METRICS_PORT;

/// Serves `/metrics` on `ENDPOINT_METRICS_PORT` if it is set, in the background.
pub fn serve_metrics_from_env() -> Result<(), EnvError> {
    let Some(v) = std::env::var(ENDPOINT_METRICS_PORT)
        .ok()
        .filter(|v| !v.is_empty())
    else {
        return Ok(());
    };
    let port: u16 = v.trim().parse().map_err(|_| EnvError::Invalid {
        name: ENDPOINT_METRICS_PORT,
        value: v.clone(),
        why: "expected a TCP port, e.g. 9090".into(),
    })?;
    let app = Router::new().route(
        "/metrics",
        get(|| async {
            (
                [(
                    axum::http::header::CONTENT_TYPE,
                    crate::metrics::CONTENT_TYPE,
                )],
                crate::metrics::global().render(),
            )
                .into_response()
        }),
    );
    tokio::spawn(async move {
        let addr = SocketAddr::from(([0, 0, 0, 0], port));
        match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => {
                tracing::info!("metrics on http://{addr}/metrics");
                let _ = axum::serve(l, app).await;
            }
            Err(e) => tracing::error!("cannot serve metrics on {addr}: {e}"),
        }
    });
    Ok(())
}
