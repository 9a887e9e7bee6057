//! The seed's pattern, demonstrated over real HTTP with a real Redis session store: the research
//! agent's chat (a load-balancing endpoint) keeps each conversation on the warm worker that
//! holds it and streams each turn as server-sent events; when that worker dies, the next turn
//! lands on another, which rehydrates the conversation from Redis and goes on; and a turn whose
//! answer was already checkpointed when its worker died is replayed, not researched again.

mod support;

use std::sync::Arc;
use std::time::Duration;

use endpoint_sdk::client::{Client, Conversation, HttpRoutes, LbResponse};
use endpoint_sdk::local::{LocalRuntime, RuntimeEvent};
use endpoint_sdk::protocol::JobStatus;
use endpoint_sdk::session::{RedisStore, SessionOptions, Sessions};
use research_agent::{agent_chat, embed_search, orchestrate, retrieve};
use serde_json::{Value, json};
use support::TestServer;
use support::redis::RedisServer;

const BOUND: Duration = Duration::from_secs(30);

/// A turn's events, by name, as they arrived.
async fn events(r: LbResponse) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let mut s = r.events();
    while let Some(e) = s.next().await {
        let e = e.expect("the stream is not cut off");
        let name = e.event.unwrap_or_default();
        let data: Value = serde_json::from_str(&e.data).unwrap_or(Value::Null);
        let done = name == "done";
        out.push((name, data));
        if done {
            break;
        }
    }
    out
}

fn one<'a>(evs: &'a [(String, Value)], name: &str) -> &'a Value {
    &evs.iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no `{name}` event in {evs:?}"))
        .1
}

async fn say(conv: &Conversation, message: &str, turn: u32) -> (LbResponse, String) {
    let r = conv
        .post("/turn")
        .json(&json!({ "message": message, "turn": turn }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let worker = r.worker().unwrap().to_string();
    (r, worker)
}

/// Orchestrator jobs that ended, counted from the runtime's events.
fn count_orchestrations(rt: &LocalRuntime) -> Arc<std::sync::atomic::AtomicUsize> {
    let n = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut events = rt.events();
    let counter = n.clone();
    tokio::spawn(async move {
        while let Ok(e) = events.recv().await {
            if let RuntimeEvent::JobFinished {
                endpoint, status, ..
            } = e
                && &*endpoint == "agent-orchestrator"
                && status == JobStatus::Completed
            {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }
    });
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_survives_the_death_of_its_worker_through_redis() {
    let redis = RedisServer::start();
    let site = research_agent::site::serve().await.unwrap();
    research_agent::endpoints::set_default_site(site.url.clone());
    let sessions = Sessions::new(
        Arc::new(RedisStore::new(&redis.url).unwrap()),
        SessionOptions::default(),
    );
    let rt = LocalRuntime::builder()
        .app::<agent_chat>()
        .endpoint::<orchestrate>()
        .endpoint::<retrieve>()
        .endpoint::<embed_search>()
        .sessions(sessions)
        .build()
        .unwrap();
    let orchestrations = count_orchestrations(&rt);
    let server = TestServer::start(rt.clone(), None).await;
    let client = Client::http(HttpRoutes::new(server.url("/v2")));
    let conv = agent_chat::client(&client).conversation("conv-redis");

    // Two turns on one warm worker, which holds the conversation in memory.
    let (r, first) = say(&conv, "How much VRAM does a 70B agent need?", 1).await;
    let evs = events(r).await;
    assert_eq!(one(&evs, "meta")["rehydrated"], false, "a new conversation");
    assert!(
        evs.iter().any(|(n, _)| n == "stage"),
        "stages relayed: {evs:?}"
    );
    assert!(
        one(&evs, "answer")["answer"]
            .as_str()
            .unwrap()
            .contains("GB")
    );
    let (r, second) = say(&conv, "What about cold starts?", 2).await;
    assert_eq!(second, first, "pinned to its worker");
    let evs = events(r).await;
    assert_eq!(one(&evs, "meta")["rehydrated"], false, "held in memory");
    assert_eq!(one(&evs, "checkpointed")["replayed"], false);

    // The worker dies: the next turn moves, says so, and the new worker rehydrates both
    // earlier turns from Redis.
    assert!(rt.kill_worker("agent-chat", &first).unwrap());
    let (r, third) = say(&conv, "And the execution timeout?", 3).await;
    assert_eq!(r.moved_from(), Some(first.as_str()));
    assert_ne!(third, first);
    let evs = events(r).await;
    let meta = one(&evs, "meta");
    assert_eq!(meta["rehydrated"], true);
    assert_eq!(meta["turns_restored"], 2, "{meta}");
    assert_eq!(meta["worker"], third.as_str());
    let counted = |n: usize| {
        let o = orchestrations.clone();
        move || (o.load(std::sync::atomic::Ordering::SeqCst) == n).then_some(())
    };
    support::until("three turns researched", BOUND, counted(3)).await;

    // Turn 4's answer is checkpointed; its worker dies before the user has it; sent again, the
    // turn is replayed from Redis by the next worker, not researched a second time.
    let (r, fourth) = say(&conv, "Which GPU for the orchestrator?", 4).await;
    let mut s = r.events();
    loop {
        let e = s.next().await.expect("events").unwrap();
        if e.event.as_deref() == Some("checkpointed") {
            break;
        }
    }
    assert!(rt.kill_worker("agent-chat", &fourth).unwrap());
    drop(s);
    support::until("four turns researched", BOUND, counted(4)).await;
    let researched = 4;
    let (r, fifth) = say(&conv, "Which GPU for the orchestrator?", 4).await;
    assert_ne!(fifth, fourth);
    assert_eq!(r.moved_from(), Some(fourth.as_str()));
    let evs = events(r).await;
    assert_eq!(one(&evs, "checkpointed")["replayed"], true);
    assert_eq!(one(&evs, "meta")["turns_restored"], 4);
    assert!(
        !evs.iter().any(|(n, _)| n == "stage"),
        "no research: {evs:?}"
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        orchestrations.load(std::sync::atomic::Ordering::SeqCst),
        researched,
        "the finished step was not redone"
    );
    let history: Vec<Value> = conv
        .get("/history")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let turns: Vec<u64> = history
        .iter()
        .map(|t| t["turn"].as_u64().unwrap())
        .collect();
    assert_eq!(turns, [1, 2, 3, 4]);

    // A turn number that is taken, with another message, is refused, not replayed.
    let (r, _) = say(&conv, "Something else entirely", 2).await;
    let evs = events(r).await;
    let error = one(&evs, "error").as_str().unwrap_or_default().to_string();
    assert!(error.contains("turn 2 of this conversation was"), "{error}");
    assert!(!evs.iter().any(|(n, _)| n == "answer"));
}
