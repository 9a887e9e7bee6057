//! The heartbeat: `ping` with the running job ids every `RUNPOD_PING_INTERVAL`, on an OS thread
//! of its own with its own runtime and connection, so that handlers that hog their threads
//! (CPU-bound work, a blocking call) cannot starve it and get the worker declared dead.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use reqwest::header::AUTHORIZATION;
use tokio_util::sync::CancellationToken;

use super::env::WorkerEnv;

/// The jobs a worker runs, shared with the heartbeat.
#[derive(Default)]
pub struct RunningIds(Mutex<BTreeSet<String>>);

impl RunningIds {
    /// Adds a job.
    pub fn insert(&self, id: &str) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.to_string());
    }

    /// Removes a job.
    pub fn remove(&self, id: &str) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
    }

    /// The running job ids.
    pub fn snapshot(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }
}

/// A running heartbeat; stops when dropped.
pub struct Heartbeat {
    stop: CancellationToken,
    thread: Option<JoinHandle<()>>,
}

impl Heartbeat {
    /// Starts pinging, if the platform gave a ping URL.
    pub fn start(env: &WorkerEnv, running: Arc<RunningIds>) -> Option<Heartbeat> {
        env.ping.as_ref()?;
        let env = env.clone();
        let stop = CancellationToken::new();
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("heartbeat".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        tracing::error!("the heartbeat could not start: {e}");
                        return;
                    }
                };
                rt.block_on(beat(env, running, flag));
            })
            .ok()?;
        Some(Heartbeat {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.stop.cancel();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn beat(env: WorkerEnv, running: Arc<RunningIds>, stop: CancellationToken) {
    // A connection of its own: the shared client's connections belong to the loop's runtime.
    let http = crate::http::new_client();
    while !stop.is_cancelled() {
        if let Some(url) = env.ping_url(&running.snapshot()) {
            let mut req = http.get(&url).timeout(env.ping_interval * 2);
            if let Some(k) = &env.api_key {
                req = req.header(AUTHORIZATION, k);
            }
            let sent = tokio::select! {
                sent = req.send() => sent,
                _ = stop.cancelled() => return,
            };
            match sent {
                Ok(r) if !r.status().is_success() => {
                    tracing::debug!(status = %r.status(), "ping refused")
                }
                Err(e) => tracing::debug!("ping failed: {e}"),
                Ok(_) => {}
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(env.ping_interval) => {}
            _ = stop.cancelled() => return,
        }
    }
}

/// Reports an unhealthy worker once before it exits (the platform's fitness-check ping).
pub async fn report_unhealthy(env: &WorkerEnv, check: &str, reason: &str) {
    let Some(base) = env.ping.as_ref() else {
        return;
    };
    let reason: String = reason.chars().take(256).collect();
    let url = super::env::with_query(
        &base
            .replace("$RUNPOD_POD_ID", &env.worker_id)
            .replace("$ID", &env.worker_id),
        &[
            ("status", "unhealthy"),
            ("check", check),
            ("reason", &reason),
            (
                "runpod_version",
                concat!("endpoint-sdk-", env!("CARGO_PKG_VERSION")),
            ),
        ],
    );
    let mut req = crate::http::client()
        .get(url)
        .timeout(Duration::from_secs(5));
    if let Some(k) = &env.api_key {
        req = req.header(AUTHORIZATION, k);
    }
    let _ = req.send().await;
}
