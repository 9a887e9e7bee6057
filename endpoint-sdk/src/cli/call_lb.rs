//! `app call` for a load-balancing endpoint: one HTTP request (`--path`, `--method`), its
//! answer's body printed as it streams (server-sent events line by line), the exit code from
//! its status.

use axum::body::Body;
use axum::http::{Method, Request};
use futures_util::StreamExt;
use serde_json::Value;

use super::call::CallArgs;
use crate::client::Transport;
use crate::protocol::load_balancer::WORKER_ID_HEADER;
use crate::{Error, Result};

pub(super) async fn call_lb(
    args: &CallArgs,
    transport: &dyn Transport,
    input: Value,
) -> Result<()> {
    let path = args.path.as_deref().unwrap_or("/");
    let has_body = args.input.is_some();
    let method = match &args.method {
        Some(m) => m
            .to_ascii_uppercase()
            .parse::<Method>()
            .map_err(|_| Error::Usage(format!("--method {m}: not an HTTP method")))?,
        None if has_body => Method::POST,
        None => Method::GET,
    };
    let mut req = Request::builder().method(method.clone()).uri(path);
    let body = if has_body {
        req = req.header("content-type", "application/json");
        Body::from(input.to_string())
    } else {
        Body::empty()
    };
    let req = req
        .body(body)
        .map_err(|e| Error::Usage(format!("--path {path}: {e}")))?;
    eprintln!(
        "{method} {path} → `{}` ({})",
        args.endpoint,
        transport.describe()
    );
    let resp = transport
        .http(&args.endpoint, req)
        .await
        .map_err(|e| Error::JobFailed(format!("the request failed: {e}")))?;
    let status = resp.status();
    let worker = resp
        .headers()
        .get(WORKER_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("the balancer itself")
        .to_string();
    eprintln!("{status} from {worker}");
    let mut body = resp.into_body().into_data_stream();
    let mut out = std::io::stdout();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| Error::JobFailed(format!("the answer was cut off: {e}")))?;
        use std::io::Write;
        let _ = out.write_all(&chunk);
        let _ = out.flush();
    }
    if status.is_client_error() || status.is_server_error() {
        return Err(Error::JobFailed(format!(
            "`{}` answered {status}",
            args.endpoint
        )));
    }
    Ok(())
}
