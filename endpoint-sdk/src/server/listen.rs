//! The accept loop: each connection served by hyper's HTTP/1 with the server's limits (a cap
//! on open connections, a deadline for each request's headers), WebSocket upgrades, and a
//! graceful shutdown that stops accepting, lets each connection finish its request, then ends.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;

use super::limits::ServerLimits;

/// What a connection past the cap is told before it is closed.
const TOO_MANY: &str = r#"{"error":"this server has as many connections open as it allows (max_connections); retry after a second, or reuse a connection","status":503}"#;

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting and waits for
/// the open connections to finish their requests.
pub(super) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: &ServerLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    // Dropped when the shutdown signal comes: each connection then finishes gracefully.
    let (signal_tx, signal_rx) = watch::channel(());
    tokio::spawn(async move {
        shutdown.await;
        drop(signal_rx);
    });
    // Each connection holds a receiver; the loop waits for the last to go.
    let (close_tx, close_rx) = watch::channel(());
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors, or the peer gave up while queued: go on serving.
                Err(e) => {
                    tracing::warn!("accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            () = signal_tx.closed() => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tokio::spawn(refuse(stream));
            continue;
        };
        let app = app.clone();
        let header_timeout = limits.header_read_timeout;
        let signal = signal_tx.clone();
        let close = close_rx.clone();
        tokio::spawn(async move {
            connection(stream, app, header_timeout, signal).await;
            drop((slot, close));
        });
    }
    drop(close_rx);
    drop(listener);
    close_tx.closed().await;
    Ok(())
}

/// Tells a connection past the cap why, and closes it.
async fn refuse(mut stream: TcpStream) {
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nconnection: \
         close\r\nretry-after: 1\r\ncontent-length: {}\r\n\r\n{TOO_MANY}",
        TOO_MANY.len()
    );
    let write = stream.write_all(answer.as_bytes());
    let _ = tokio::time::timeout(Duration::from_secs(1), write).await;
    let _ = stream.shutdown().await;
}

/// One connection, until it closes or the shutdown signal lets its last request finish.
async fn connection(
    stream: TcpStream,
    app: Router,
    header_timeout: Duration,
    signal: watch::Sender<()>,
) {
    let _ = stream.set_nodelay(true);
    let service = TowerToHyperService::new(
        app.map_request(|req: hyper::Request<Incoming>| req.map(Body::new))
            .map_err(|e: Infallible| match e {}),
    );
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let conn = builder
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    let mut conn = std::pin::pin!(conn);
    let mut signalled = std::pin::pin!(signal.closed());
    let mut shutting_down = false;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!("a connection ended: {e}");
                }
                return;
            }
            () = &mut signalled, if !shutting_down => {
                shutting_down = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}
