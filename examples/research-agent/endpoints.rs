//! The blueprint's three endpoints: the orchestrator on an A100 80GB, web retrieval on CPU,
//! embedding search on an RTX 4090.

use std::sync::OnceLock;

use endpoint_sdk::client::CallRecord;
use endpoint_sdk::prelude::*;
// The inputs describe themselves: `app manifest` and the dashboard's form read their schemas.
use endpoint_sdk::schemars::{self, JsonSchema};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::embedding::{EmbedError, Embedder};
use crate::kb::{KbHit, KbIndex};
use crate::llm::{Llm, reasoning_model};
use crate::pipeline::{self, Evidence, Source, SourceKind};
use crate::retrieval::{self, Passage, RetrievalError};

/// A question for the agent.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct Question {
    /// The question.
    pub question: String,
    /// Pages to research; empty means the default site ([`set_default_site`] or the
    /// `RESEARCH_AGENT_SITE` variable).
    #[serde(default)]
    pub urls: Vec<String>,
    /// Demo fault: the retrieval of this sub-query (0, 1 or 2) hangs until its ceiling ends it.
    #[serde(default)]
    pub hang_retrieval: Option<usize>,
}

/// The agent's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Answer {
    /// The question.
    pub question: String,
    /// The sub-queries researched.
    pub sub_queries: Vec<String>,
    /// The answer, with `[n]` citations.
    pub answer: String,
    /// How the answer was written: a chat model, or the extractive fallback.
    pub mode: String,
    /// What embedded the knowledge-base search: the real model, or the labelled fallback.
    #[serde(default)]
    pub kb_search: String,
    /// Every source gathered, by citation number.
    pub sources: Vec<Source>,
    /// The sources the answer cites.
    pub cited: Vec<usize>,
    /// The critique of the answer.
    pub critique: Vec<String>,
    /// Retrievals or searches that failed, and why.
    pub failures: Vec<String>,
    /// Every call the orchestrator made, for the waterfall.
    pub calls: Vec<CallRecord>,
}

/// Why the agent could not answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
pub enum AgentError {
    /// No page to research was given and no default site is configured.
    #[error("no pages to research: pass `urls`, or set RESEARCH_AGENT_SITE")]
    NoSources,
    /// Every retrieval and the knowledge-base search failed.
    #[error("no evidence: every retrieval and the knowledge-base search failed ({0})")]
    NoEvidence(String),
}

/// One retrieval job.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RetrievalRequest {
    /// What to look for.
    pub query: String,
    /// Where to look.
    pub urls: Vec<String>,
    /// How many linked pages to follow from index pages.
    pub follow: usize,
    /// How many passages to return.
    pub k: usize,
    /// Demo fault: hang until the execution timeout ends the job.
    #[serde(default)]
    pub hang: bool,
}

/// What a retrieval found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Retrieved {
    /// The query.
    pub query: String,
    /// The best passages, best first.
    pub passages: Vec<Passage>,
    /// Pages fetched.
    pub pages: usize,
}

/// A knowledge-base search.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SearchQuery {
    /// What to look for.
    pub query: String,
    /// How many passages to return.
    pub k: usize,
}

/// A knowledge-base search failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("knowledge-base search failed: {0}")]
pub struct SearchError(pub String);

static DEFAULT_SITE: OnceLock<String> = OnceLock::new();

/// The site researched when a question names no URL (the example serves its bundled site and
/// sets it here; deployed workers read `RESEARCH_AGENT_SITE`).
pub fn set_default_site(url: String) {
    let _ = DEFAULT_SITE.set(url);
}

fn default_site() -> Option<String> {
    DEFAULT_SITE.get().cloned().or_else(|| {
        std::env::var("RESEARCH_AGENT_SITE")
            .ok()
            .filter(|s| !s.is_empty())
    })
}

/// Web retrieval: fetches pages over HTTP, extracts their text, ranks passages against the
/// query. CPU workers that scale from zero; each runs up to four retrievals at once (the work is
/// waiting on the network), so a fan-out runs in parallel; a 30 s ceiling.
#[endpoint(
    name = "web-retrieval",
    cpu = "cpu5c-4-8",
    workers = (0, 10),
    concurrency = 4,
    idle_timeout = 300,
    execution_timeout_ms = 30_000
)]
pub async fn retrieve(request: RetrievalRequest) -> Result<Retrieved, RetrievalError> {
    if request.hang {
        // The demo fault: a scraper stuck on a server that never answers.
        std::future::pending::<()>().await;
    }
    let (passages, pages) = retrieval::retrieve(
        crate::http_client(),
        &request.query,
        &request.urls,
        request.follow,
        request.k,
    )
    .await?;
    Ok(Retrieved {
        query: request.query,
        passages,
        pages,
    })
}

/// Builds the knowledge-base index once per worker.
pub async fn load_index() -> Result<KbIndex, EmbedError> {
    KbIndex::build(Embedder::from_env()).await
}

/// Embedding search over the internal knowledge base. One warm RTX 4090 worker.
#[endpoint(
    name = "embedding-search",
    gpu = NVIDIA_GEFORCE_RTX_4090,
    workers = (1, 10),
    execution_timeout_ms = 20_000,
    init = load_index
)]
pub async fn embed_search(index: &KbIndex, query: SearchQuery) -> Result<Vec<KbHit>, SearchError> {
    index
        .search(&query.query, query.k)
        .await
        .map_err(|e| SearchError(e.to_string()))
}

/// What the orchestrator streams while it works.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AgentEvent {
    /// A stage begins, `at_ms` into the job.
    Stage {
        /// `decompose`, `retrieve`, `search`, `synthesize`, `critique` or `done`.
        stage: String,
        /// What the stage works on.
        detail: serde_json::Value,
        /// When it began, in milliseconds since the job started.
        at_ms: u64,
    },
    /// A piece of the answer, as the chat model writes it.
    Token {
        /// The text.
        text: String,
    },
}

/// The orchestrator: decomposes the question into three sub-queries, fans out web retrieval
/// ×3 in parallel, searches the knowledge base, then synthesises and critiques the answer.
/// Pinned to an A100 80GB, three warm workers, a 200 GB volume for model weights.
#[endpoint(
    name = "agent-orchestrator",
    gpu = NVIDIA_A100_80GB_PCIe,
    workers = (3, 20),
    idle_timeout = 1800,
    execution_timeout_ms = 120_000,
    datacenter = EU_RO_1,
    volume(name = "agent-model-weights", size = 200),
    env(MODEL_DIR = "/runpod-volume/models"),
    // The blueprint's reasoning model: a 70B at 4-bit. Its budget (37.8 GB of weights, 5 GB of
    // KV cache per 16k-token session, in 90 % of 80 GB) gives 6 sessions per worker: the
    // orchestrator's concurrency and its VRAM floor follow.
    model(preset = LLAMA_3_3_70B, weights = int4, context = 16_384),
    interactive,
    max_steps = 20,
    calls = [retrieve, embed_search, reasoning_model]
)]
pub async fn orchestrate(
    ctx: Ctx,
    events: Chunks<AgentEvent>,
    request: Question,
) -> Result<Answer, AgentError> {
    // Each stage is a progress update (the latest shows in `/status`) and an event of the
    // stream (every stage, in order, and the answer's tokens, for live displays).
    let started = std::time::Instant::now();
    let stage = |name: &str, detail: serde_json::Value| {
        let at_ms = started.elapsed().as_millis() as u64;
        ctx.progress(json!({ "stage": name, "detail": detail, "at_ms": at_ms }));
        let stage = name.to_string();
        let _ = events.try_send(AgentEvent::Stage {
            stage,
            detail,
            at_ms,
        });
    };
    let llm = Llm::for_job(&ctx);
    let urls = if request.urls.is_empty() {
        vec![default_site().ok_or(AgentError::NoSources)?]
    } else {
        request.urls.clone()
    };
    let mut failures = Vec::new();

    stage(
        "decompose",
        json!(llm.as_ref().map_or("heuristic".to_string(), Llm::describe)),
    );
    let (sub_queries, note) = pipeline::decompose(llm.as_ref(), &request.question).await;
    failures.extend(note.map(|n| format!("decomposition fell back to the heuristic: {n}")));

    stage("retrieve", json!(sub_queries));
    let requests = sub_queries
        .iter()
        .enumerate()
        .map(|(i, q)| RetrievalRequest {
            query: q.clone(),
            urls: urls.clone(),
            follow: 2,
            k: 4,
            hang: request.hang_retrieval == Some(i),
        });
    let retrievals = retrieve::fan_out(&ctx, requests).concurrency(3).await;

    stage("search", json!(request.question));
    let hits = embed_search::call(
        &ctx,
        SearchQuery {
            query: request.question.clone(),
            k: 5,
        },
    )
    .await;

    let kb_search = hits
        .as_ref()
        .ok()
        .and_then(|h| h.first())
        .map(|h| h.embedded_by.clone())
        .unwrap_or_default();
    let (sources, evidence) = number_sources(&sub_queries, retrievals, hits, &mut failures);
    if evidence.is_empty() {
        return Err(AgentError::NoEvidence(failures.join("; ")));
    }
    let kinds: Vec<SourceKind> = sources.iter().map(|s| s.kind).collect();

    stage("synthesize", json!(evidence.len()));
    let (draft, note) = pipeline::synthesize(
        llm.as_ref(),
        &request.question,
        &sub_queries,
        &evidence,
        &kinds,
        &mut |text| {
            let _ = events.try_send(AgentEvent::Token { text });
        },
    )
    .await;
    failures.extend(note.map(|n| format!("synthesis fell back to extraction: {n}")));

    stage("critique", json!(draft.cited.len()));
    let critique =
        pipeline::critique(llm.as_ref(), &request.question, &draft, &kinds, &failures).await;

    stage("done", json!(null));
    Ok(Answer {
        question: request.question,
        sub_queries,
        answer: draft.text,
        mode: match &llm {
            Some(l) => format!("written by {}", l.describe()),
            None => "extractive fallback: no chat model is configured (set LLM_ENDPOINT_ID or \
                     LLM_BASE_URL), so the \
                     answer quotes the most relevant sentences of the sources"
                .to_string(),
        },
        kb_search,
        sources,
        cited: draft.cited,
        critique,
        failures,
        calls: ctx.calls(),
    })
}

/// The evidence of the retrievals and the knowledge-base search, with its sources numbered (one
/// per web page, one per knowledge-base note); each failure goes to `failures`.
fn number_sources(
    sub_queries: &[String],
    retrievals: Vec<Result<Retrieved, CallError<RetrievalError>>>,
    hits: Result<Vec<KbHit>, CallError<SearchError>>,
    failures: &mut Vec<String>,
) -> (Vec<Source>, Vec<Evidence>) {
    let mut sources: Vec<Source> = Vec::new();
    let mut evidence: Vec<Evidence> = Vec::new();
    let mut source_of = |kind: SourceKind, title: &str, location: &str| -> usize {
        if let Some(s) = sources.iter().find(|s| s.location == location) {
            return s.n;
        }
        let n = sources.len() + 1;
        sources.push(Source {
            n,
            kind,
            title: title.to_string(),
            location: location.to_string(),
        });
        n
    };
    for (q, r) in sub_queries.iter().zip(retrievals) {
        match r {
            Ok(found) => {
                for p in found.passages {
                    let n = source_of(SourceKind::Web, &p.title, &p.url);
                    // Sub-queries often find the same passage: it is evidence once.
                    if !evidence.iter().any(|e| e.source == n && e.text == p.text) {
                        evidence.push(Evidence {
                            source: n,
                            text: p.text,
                        });
                    }
                }
            }
            Err(e) => failures.push(format!("web retrieval for \"{q}\": {e}")),
        }
    }
    match hits {
        Ok(hits) => {
            for h in hits {
                let n = source_of(
                    SourceKind::KnowledgeBase,
                    &h.passage.title,
                    &format!("kb:{}", h.passage.doc),
                );
                evidence.push(Evidence {
                    source: n,
                    text: h.passage.text,
                });
            }
        }
        Err(e) => failures.push(format!("knowledge-base search: {e}")),
    }
    (sources, evidence)
}
