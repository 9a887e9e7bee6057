//! The seed's pattern: a multi-turn chat with the research agent, served directly by a
//! load-balancing endpoint on the orchestrator's hardware. Each turn of a conversation is
//! pinned to the warm worker that holds it (the client's `Conversation`); the worker keeps the
//! conversation in memory and streams the turn as server-sent events. When that worker is gone
//! (killed, or idled out), the next turn lands on another, which rehydrates the conversation
//! from the session store (Redis in production) and goes on; a turn whose answer was already
//! checkpointed there is replayed, not researched again.
//!
//! `POST /turn` with `{"message": "..", "turn": n?}` (the client's `x-endpoint-session` names
//! the conversation) answers `text/event-stream`:
//!
//! - `meta`: `{"worker", "session", "turn", "rehydrated", "turns_restored"}`;
//! - `stage` and `token`: the orchestrator's own events, relayed as they come;
//! - `checkpointed`: `{"turn", "replayed"}`, once the turn's answer is in the session store;
//! - `answer`: the [`Answer`]; or `error`: why there is none;
//! - `done`.
//!
//! `GET /history` answers the conversation's turns as this worker holds them.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use endpoint_sdk::axum::extract::State;
use endpoint_sdk::axum::response::sse::{Event, Sse};
use endpoint_sdk::axum::routing::{get, post};
use endpoint_sdk::axum::{Json, Router};
use endpoint_sdk::prelude::*;
use futures_core::Stream;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::mpsc;

use crate::endpoints::{AgentEvent, Answer, Question, orchestrate};

/// One turn from the user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Turn {
    /// What the user says.
    pub message: String,
    /// Which turn this is (the client's count, so that a turn sent again after its worker died
    /// is the same step); the next one when absent.
    #[serde(default)]
    pub turn: Option<u32>,
    /// Pages to research (the default site when empty).
    #[serde(default)]
    pub urls: Vec<String>,
}

/// A finished turn, as the conversation remembers it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TurnRecord {
    /// Its number.
    pub turn: u32,
    /// The user's message.
    pub message: String,
    /// The agent's answer.
    pub answer: Answer,
}

/// A chat worker's state: the conversations it holds in memory, warm.
#[derive(Default)]
pub struct ChatState {
    conversations: Mutex<HashMap<String, Vec<TurnRecord>>>,
}

impl ChatState {
    fn held(&self, session: &str) -> Option<Vec<TurnRecord>> {
        self.lock().get(session).cloned()
    }

    fn remember(&self, session: &str, turns: Vec<TurnRecord>) {
        self.lock().insert(session.to_string(), turns);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<TurnRecord>>> {
        self.conversations.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Opens a chat worker: nothing in memory yet (a real one would load its model here).
pub async fn open_chat() -> Result<ChatState, std::convert::Infallible> {
    Ok(ChatState::default())
}

/// The chat: a load-balancing endpoint on the orchestrator's hardware, one warm worker,
/// four conversations' requests in flight per worker before another is added, workers kept
/// for 30 idle minutes.
#[endpoint(
    name = "agent-chat",
    gpu = NVIDIA_A100_80GB_PCIe,
    workers = (1, 10),
    scaler = request_count(4),
    idle_timeout = 1800,
    execution_timeout_ms = 300_000,
    datacenter = EU_RO_1,
    min_vram_gb = 60,
    interactive,
    init = open_chat,
    calls = [orchestrate]
)]
pub fn agent_chat(state: Arc<ChatState>) -> Router {
    Router::new()
        .route("/turn", post(turn))
        .route("/history", get(history))
        .with_state(state)
}

type Events = Sse<Box<dyn Stream<Item = Result<Event, Infallible>> + Send + Unpin>>;

async fn turn(State(chat): State<Arc<ChatState>>, ctx: Ctx, Json(turn): Json<Turn>) -> Events {
    let (tx, mut rx) = mpsc::channel::<Event>(64);
    tokio::spawn(async move {
        if let Err(e) = run_turn(&chat, &ctx, turn, &tx).await {
            let _ = tx.send(event("error", json!(e))).await;
        }
        let _ = tx.send(event("done", json!(null))).await;
    });
    let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx).map(|e| e.map(Ok)));
    Sse::new(Box::new(stream))
}

async fn history(State(chat): State<Arc<ChatState>>, ctx: Ctx) -> Json<Vec<TurnRecord>> {
    Json(chat.held(ctx.session_id()).unwrap_or_default())
}

fn event(name: &str, data: serde_json::Value) -> Event {
    Event::default().event(name).data(data.to_string())
}

/// One turn: the conversation from memory or the store, the research (or its checkpointed
/// answer), every event on its way to the user.
async fn run_turn(
    chat: &ChatState,
    ctx: &Ctx,
    turn: Turn,
    tx: &mpsc::Sender<Event>,
) -> Result<(), String> {
    let session = ctx.session().await.map_err(|e| e.to_string())?;
    let id = session.id().to_string();
    // Not in this worker's memory: a new conversation, or one whose worker is gone, whose
    // turns come back from the session store.
    let (mut turns, rehydrated) = match chat.held(&id) {
        Some(turns) => (turns, false),
        None => {
            let turns = restore(&session)?;
            let restored = !turns.is_empty();
            (turns, restored)
        }
    };
    let n = turn.turn.unwrap_or(turns.len() as u32 + 1);
    let meta = json!({
        "worker": ctx.worker_id(),
        "session": id,
        "turn": n,
        "rehydrated": rehydrated,
        "turns_restored": if rehydrated { turns.len() } else { 0 },
    });
    let _ = tx.send(event("meta", meta)).await;

    let step = step_name(n);
    let replayed = session.finished_steps().contains(&step);
    if let Some(done) = turns.iter().find(|t| t.turn == n)
        && done.message != turn.message
    {
        return Err(format!(
            "turn {n} of this conversation was \"{}\"; send the next turn's number ({}), or none",
            done.message,
            turns.len() + 1
        ));
    }
    let question = Question {
        question: turn.message.clone(),
        urls: turn.urls.clone(),
        hang_retrieval: None,
    };
    let answer: Answer = session
        .try_step(&step, || research(ctx, question, tx))
        .await
        .map_err(|e| e.to_string())?;
    let checkpointed = json!({ "turn": n, "replayed": replayed });
    let _ = tx.send(event("checkpointed", checkpointed)).await;
    let _ = tx.send(event("answer", json!(answer))).await;
    turns.retain(|t| t.turn != n);
    turns.push(TurnRecord {
        turn: n,
        message: turn.message,
        answer,
    });
    turns.sort_by_key(|t| t.turn);
    chat.remember(&id, turns);
    Ok(())
}

/// Calls the orchestrator, relaying its stages and tokens as they come.
async fn research(
    ctx: &Ctx,
    question: Question,
    tx: &mpsc::Sender<Event>,
) -> Result<Answer, String> {
    let mut stream = orchestrate::stream(ctx, question);
    while let Some(e) = stream.next().await {
        let sent = match e {
            Ok(AgentEvent::Token { text }) => event("token", json!(text)),
            Ok(stage @ AgentEvent::Stage { .. }) => event("stage", json!(stage)),
            Err(e) => return Err(e.to_string()),
        };
        let _ = tx.send(sent).await;
    }
    stream.output().await.map_err(|e| e.to_string())
}

fn step_name(turn: u32) -> String {
    format!("turn-{turn:05}")
}

/// The conversation's finished turns, from the session store.
fn restore(session: &Session) -> Result<Vec<TurnRecord>, String> {
    let mut turns = Vec::new();
    for step in session.finished_steps() {
        let Some(n) = step
            .strip_prefix("turn-")
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let answer: Answer = session
            .step_result(&step)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("step {step} vanished"))?;
        turns.push(TurnRecord {
            turn: n,
            message: answer.question.clone(),
            answer,
        });
    }
    Ok(turns)
}
