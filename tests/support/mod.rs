//! Shared by the HTTP tests: a local runtime behind the real server on a free loopback port.
#![allow(dead_code)]

pub mod proxy;
pub mod python;
pub mod redis;

use std::time::Duration;

use tokio::time::Instant;

use endpoint_sdk::local::LocalRuntime;
use endpoint_sdk::server::Server;
use tokio::sync::oneshot;

/// The marker every secret the suite uses carries (API keys, tokens). The test command reads
/// every log the suite's processes wrote (`log_path`) and fails if any line holds it: a secret
/// reached a log. A new test that uses a secret puts the marker in it.
pub const SECRET_MARKER: &str = "SUITE-SECRET";

/// Where a process a test starts writes its log: `target/tmp/logs/<name>.log`, kept after the
/// test (the test command checks them all for secrets, see [`SECRET_MARKER`]).
pub fn log_path(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("logs");
    std::fs::create_dir_all(&dir).expect("the logs' directory");
    dir.join(format!("{name}.log"))
}

/// A running server; stops when dropped.
pub struct TestServer {
    pub base: String,
    pub runtime: LocalRuntime,
    stop: Option<oneshot::Sender<()>>,
    pub task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    pub async fn start(runtime: LocalRuntime, api_key: Option<&str>) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel::<()>();
        let server = Server::new(runtime.clone()).api_key(api_key.map(str::to_string));
        let task = tokio::spawn(server.serve(listener, async {
            let _ = rx.await;
        }));
        TestServer {
            base,
            runtime,
            stop: Some(tx),
            task: Some(task),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(30), task)
                .await
                .expect("the server stops")
                .unwrap()
                .unwrap();
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

pub fn client() -> reqwest::Client {
    // reqwest is built without a default TLS crypto provider (see the workspace manifest).
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// Waits until `f` returns a value, checking every 10 ms, at most `within` (on Tokio's clock:
/// virtual time in a paused-clock test). Panics naming `what` when the state never comes.
pub async fn until<T>(what: &str, within: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < within, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A free port on the loopback interface.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
