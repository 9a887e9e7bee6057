//! The research agent streams: with a chat model configured (here an OpenAI-compatible server
//! on loopback that streams its answer as server-sent events), the orchestrator's typed stream
//! carries each stage as it begins and each token of the answer as the model writes it. The
//! model sends its first token, then waits for a gate that the test opens only after reading
//! that token from the orchestrator's stream, so the tokens are proven to arrive while they are
//! being written. (Its own test binary: it configures the model through the environment.)

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::response::{IntoResponse, Response};
use endpoint_sdk::local::LocalRuntime;
use research_agent::{AgentEvent, Question, embed_search, orchestrate, retrieve};
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc};

const TOKENS: [&str; 4] = ["A 70B model ", "needs about ", "46 to 60 GB ", "[1]."];

/// A body fed by a channel.
struct Feed(mpsc::Receiver<Bytes>);

impl futures_core::Stream for Feed {
    type Item = Result<Bytes, std::io::Error>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|b| b.map(Ok))
    }
}

fn event(content: &str) -> Bytes {
    let chunk = json!({"choices": [{"delta": {"content": content}}]});
    Bytes::from(format!("data: {chunk}\n\n"))
}

/// The chat API: the synthesis gets the tokens, streamed (the first, then the rest once `gate`
/// opens); the decomposition and the critique get one JSON answer (as a server that does not
/// stream answers; the SDK's client takes either).
async fn chat(gate: Arc<Notify>, Json(body): Json<Value>) -> Response {
    assert_eq!(
        body["stream"],
        json!(true),
        "the SDK streams every chat request"
    );
    let system = body["messages"][0]["content"].as_str().unwrap_or_default();
    if !system.starts_with("Answer the question") {
        let answer = json!({"choices": [{"message": {"content": "vram for 70b models"}}]});
        return Json(answer).into_response();
    }
    let (tx, rx) = mpsc::channel(8);
    tokio::spawn(async move {
        let _ = tx.send(event(TOKENS[0])).await;
        gate.notified().await;
        for t in &TOKENS[1..] {
            let _ = tx.send(event(t)).await;
        }
        let _ = tx.send(Bytes::from("data: [DONE]\n\n")).await;
    });
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(Feed(rx)))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_orchestrator_streams_its_stages_and_the_models_tokens_as_they_are_written() {
    let gate = Arc::new(Notify::new());
    let model = {
        let gate = gate.clone();
        axum::Router::new().route(
            "/v1/chat/completions",
            axum::routing::post(move |body| chat(gate.clone(), body)),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, model).await });
    // SAFETY: set once, before anything in this test binary reads the environment.
    unsafe { std::env::set_var("LLM_BASE_URL", &base) };

    let site = research_agent::site::serve().await.unwrap();
    let rt = LocalRuntime::builder()
        .endpoint::<orchestrate>()
        .endpoint::<retrieve>()
        .endpoint::<embed_search>()
        .build()
        .unwrap();
    let question = Question {
        question: "How much VRAM does a 70B agent need?".into(),
        urls: vec![site.url.clone()],
        hang_retrieval: None,
    };
    let mut stream = orchestrate::stream(&rt.client(), question);
    let (mut stages, mut tokens) = (Vec::new(), Vec::new());
    while let Some(event) = tokio::time::timeout(Duration::from_secs(60), stream.next())
        .await
        .expect("the stream goes on")
    {
        match event.unwrap() {
            AgentEvent::Stage { stage, .. } => stages.push(stage),
            AgentEvent::Token { text } => {
                if tokens.is_empty() {
                    // The model waits for this before it writes the rest.
                    gate.notify_one();
                }
                tokens.push(text);
            }
        }
    }
    assert_eq!(
        stages,
        [
            "decompose",
            "retrieve",
            "search",
            "synthesize",
            "critique",
            "done"
        ]
    );
    assert_eq!(tokens, TOKENS, "each token once, in order");
    let answer = stream.output().await.unwrap();
    assert_eq!(answer.answer, TOKENS.concat());
    assert!(answer.mode.contains(&base), "{}", answer.mode);
    // The model's three requests (decompose, synthesize, critique) are calls of the
    // orchestrator's job, in its trace, each completed in one attempt.
    let to_model: Vec<_> = answer
        .calls
        .iter()
        .filter(|c| c.endpoint == "reasoning_model")
        .collect();
    assert_eq!(to_model.len(), 3, "{:?}", answer.calls);
    assert!(
        to_model
            .iter()
            .all(|c| c.status == Some(endpoint_sdk::JobStatus::Completed) && c.attempts == 1),
        "{to_model:?}"
    );
}
