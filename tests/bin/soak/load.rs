//! The soak's clients, each a loop until the stop flag: `/runsync` echoes, `/run` with status
//! polls, streams, cancels, purges, retries of failed jobs, session turns, requests dropped
//! mid-way, and conversations with the load-balancing endpoint `soak_chat` (streamed answers,
//! pinned to their worker while it lives). Every job a `/run` accepted goes into the ledger, to
//! be checked at the end.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::Mutex;

/// A job accepted by `/run`.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub endpoint: &'static str,
    pub id: String,
}

/// What the clients did.
#[derive(Default)]
pub struct Ledger {
    pub accepted: Mutex<Vec<Accepted>>,
    pub requests: AtomicU64,
    pub failures: Mutex<Vec<String>>,
    pub sessions: AtomicU64,
    /// Turns of `soak_chat` conversations answered in full.
    pub lb_turns: AtomicU64,
    /// Turns whose conversation moved to another worker (its own was gone).
    pub lb_moved: AtomicU64,
    /// Turns whose answer the client dropped mid-stream.
    pub lb_dropped: AtomicU64,
}

impl Ledger {
    async fn fail(&self, what: String) {
        let mut f = self.failures.lock().await;
        if f.len() < 50 {
            f.push(what);
        }
    }
}

/// The clients' shared context.
#[derive(Clone)]
pub struct Load {
    pub base: String,
    pub http: reqwest::Client,
    pub ledger: Arc<Ledger>,
    pub stop: Arc<AtomicBool>,
}

const FINAL: [&str; 4] = ["COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT"];

impl Load {
    fn running(&self) -> bool {
        !self.stop.load(Ordering::Relaxed)
    }

    async fn post(&self, path: &str, body: Value) -> Option<Value> {
        self.ledger.requests.fetch_add(1, Ordering::Relaxed);
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .ok()?;
        r.json().await.ok()
    }

    async fn get(&self, path: &str) -> Option<Value> {
        self.ledger.requests.fetch_add(1, Ordering::Relaxed);
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .ok()?;
        r.json().await.ok()
    }

    /// `/run`, recorded in the ledger when accepted.
    async fn run(&self, endpoint: &'static str, input: Value) -> Option<String> {
        let v = self
            .post(&format!("/v2/{endpoint}/run"), json!({ "input": input }))
            .await?;
        let id = v["id"].as_str()?.to_string();
        self.ledger.accepted.lock().await.push(Accepted {
            endpoint,
            id: id.clone(),
        });
        Some(id)
    }

    /// Polls a job's status until it is final or `within` passes.
    async fn settle(&self, endpoint: &str, id: &str, within: Duration) -> Option<Value> {
        let until = tokio::time::Instant::now() + within;
        while tokio::time::Instant::now() < until {
            if let Some(v) = self.get(&format!("/v2/{endpoint}/status/{id}")).await
                && FINAL.contains(&v["status"].as_str().unwrap_or_default())
            {
                return Some(v);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        None
    }

    pub async fn runsync_echo(self) {
        let mut i = 0u64;
        while self.running() {
            i += 1;
            if let Some(v) = self
                .post("/v2/echo/runsync", json!({ "input": { "i": i } }))
                .await
                && v["status"] == "COMPLETED"
                && v["output"]["i"] != i
            {
                self.ledger
                    .fail(format!("runsync echo {i} answered another output: {v}"))
                    .await;
            }
        }
    }

    pub async fn run_and_poll(self) {
        while self.running() {
            if let Some(id) = self.run("echo", json!({ "polled": true })).await {
                let _ = self.settle("echo", &id, Duration::from_secs(5)).await;
            }
        }
    }

    pub async fn streams(self) {
        while self.running() {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let Some(id) = self.run("chatty", json!(5)).await else {
                continue;
            };
            for _ in 0..50 {
                let Some(v) = self.get(&format!("/v2/chatty/stream/{id}")).await else {
                    break;
                };
                if FINAL.contains(&v["status"].as_str().unwrap_or_default()) {
                    break;
                }
            }
        }
    }

    pub async fn cancels(self) {
        while self.running() {
            if let Some(id) = self.run("nap", json!(3_000)).await {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let _ = self.post(&format!("/v2/nap/cancel/{id}"), json!({})).await;
            }
        }
    }

    pub async fn purges(self) {
        while self.running() {
            for _ in 0..5 {
                let _ = self.run("nap", json!(2_000)).await;
            }
            let _ = self.post("/v2/nap/purge-queue", json!({})).await;
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }

    pub async fn retries(self) {
        while self.running() {
            let Some(id) = self.run("refuse", json!("no")).await else {
                continue;
            };
            if self
                .settle("refuse", &id, Duration::from_secs(5))
                .await
                .is_some()
            {
                let _ = self
                    .post(&format!("/v2/refuse/retry/{id}"), json!({}))
                    .await;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Sessions of two turns: the second resumes every step the first finished.
    pub async fn sessions(self, client: u32) {
        let mut n = 0;
        while self.running() {
            n += 1;
            let session = format!("soak-{client}-{n}");
            self.ledger.sessions.fetch_add(1, Ordering::Relaxed);
            for _turn in 0..2 {
                let input = json!({ "$session": session, "$input": 150 });
                if let Some(id) = self.run("soak_steps", input).await {
                    let _ = self
                        .settle("soak_steps", &id, Duration::from_secs(60))
                        .await;
                }
            }
        }
    }

    /// Requests whose client gives up after a few milliseconds: the connection is dropped
    /// mid-request.
    pub async fn droppers(self) {
        let impatient = reqwest::Client::builder()
            .timeout(Duration::from_millis(3))
            .build()
            .expect("a client");
        while self.running() {
            self.ledger.requests.fetch_add(1, Ordering::Relaxed);
            let _ = impatient
                .post(format!("{}/v2/echo/runsync", self.base))
                .json(&json!({ "input": "dropped" }))
                .send()
                .await;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Conversations with `soak_chat` through the SDK's load-balancing client: four turns
    /// each, pinned (strictly) to the worker that answered the first. Each answer's events
    /// must be `<turn>:0..` then `done`, its turn one past the last on a conversation that
    /// stayed (a turn counted elsewhere would mean the pin was not kept) and 1 on one that
    /// moved. Every third conversation drops an answer after two events; every fifth pauses
    /// past the idle timeout, so its worker retires and the next turn must move.
    pub async fn lb_conversations(self, client: u32) {
        use endpoint_sdk::client::{Client, HttpRoutes};
        let sdk = Client::http(HttpRoutes::new(format!("{}/v2", self.base)));
        let mut n = 0u32;
        while self.running() {
            n += 1;
            let conv =
                endpoint_tests::soak_chat::client(&sdk).conversation(format!("lb-{client}-{n}"));
            let mut last = 0;
            for turn in 0..4 {
                if n.is_multiple_of(5) && turn == 2 {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
                let drop_after = (n.is_multiple_of(3) && turn == 1).then_some(2);
                match self.lb_turn(&conv, drop_after).await {
                    Ok(Turn { counted, moved }) => {
                        let expected = if moved { 1 } else { last + 1 };
                        if counted != expected {
                            self.ledger
                                .fail(format!(
                                    "soak_chat conversation lb-{client}-{n}: turn counted {counted}, \
                                     expected {expected} (moved: {moved})"
                                ))
                                .await;
                        }
                        last = counted;
                    }
                    Err(e) => {
                        self.ledger
                            .fail(format!("soak_chat conversation lb-{client}-{n}: {e}"))
                            .await;
                        break;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(u64::from(n % 7) * 100)).await;
        }
    }

    /// One turn: the turn number its worker counted, and whether the conversation moved.
    async fn lb_turn(
        &self,
        conv: &endpoint_sdk::client::Conversation,
        drop_after: Option<usize>,
    ) -> Result<Turn, String> {
        self.ledger.requests.fetch_add(1, Ordering::Relaxed);
        let r = conv
            .post("/turn")
            .json(&endpoint_tests::SoakTurn {
                tokens: 5,
                gap_ms: 20,
            })
            .timeout(Duration::from_secs(60))
            .send()
            .await
            .map_err(|e| e.to_string())?
            .error_for_status()
            .await
            .map_err(|e| e.to_string())?;
        let moved = r.moved_from().is_some();
        if moved {
            self.ledger.lb_moved.fetch_add(1, Ordering::Relaxed);
        }
        let mut events = r.events();
        let mut data = Vec::new();
        while let Some(e) = events.next().await {
            data.push(e.map_err(|e| format!("the answer broke off: {e}"))?.data);
            if drop_after == Some(data.len()) {
                self.ledger.lb_dropped.fetch_add(1, Ordering::Relaxed);
                break;
            }
        }
        let counted: u32 = data
            .first()
            .and_then(|d| d.split(':').next()?.parse().ok())
            .ok_or_else(|| format!("an answer without a turn: {data:?}"))?;
        let whole: Vec<String> = (0..5)
            .map(|i| format!("{counted}:{i}"))
            .chain(std::iter::once("done".to_string()))
            .collect();
        let expected = &whole[..drop_after.unwrap_or(whole.len())];
        if data != expected {
            return Err(format!("answer {data:?}, expected {expected:?}"));
        }
        if drop_after.is_none() {
            self.ledger.lb_turns.fetch_add(1, Ordering::Relaxed);
        }
        Ok(Turn { counted, moved })
    }
}

/// What a turn's answer said.
struct Turn {
    counted: u32,
    moved: bool,
}
