//! The small website bundled with the example, served on loopback so that web retrieval does
//! real HTTP GETs offline. Any other site works too: pass its URLs.

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

const PAGES: &[(&str, &str)] = &[
    ("/", include_str!("site/index.html")),
    ("/about.html", include_str!("site/about.html")),
    (
        "/vram-for-70b-models.html",
        include_str!("site/vram-for-70b-models.html"),
    ),
    (
        "/kv-cache-explained.html",
        include_str!("site/kv-cache-explained.html"),
    ),
    (
        "/a100-h100-4090.html",
        include_str!("site/a100-h100-4090.html"),
    ),
    (
        "/quantization-in-practice.html",
        include_str!("site/quantization-in-practice.html"),
    ),
    (
        "/serverless-cold-starts.html",
        include_str!("site/serverless-cold-starts.html"),
    ),
    (
        "/agents-in-production.html",
        include_str!("site/agents-in-production.html"),
    ),
];

async fn page(uri: axum::http::Uri) -> impl IntoResponse {
    match PAGES.iter().find(|(p, _)| *p == uri.path()) {
        Some((_, html)) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            *html,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such page").into_response(),
    }
}

/// A running copy of the bundled site.
pub struct Site {
    /// Its address, e.g. `http://127.0.0.1:41233/`.
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Site {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves the bundled site on a free loopback port until the returned value is dropped.
pub async fn serve() -> std::io::Result<Site> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/", listener.local_addr()?);
    let app = Router::new().fallback(get(page));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(Site { url, task })
}
