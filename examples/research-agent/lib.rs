//! The research agent of the founding blueprint, on endpoint-sdk.
//!
//! Three endpoints ([`endpoints`]): an orchestrator on an A100 80GB that decomposes the
//! question into three sub-queries, fans out web retrieval ×3 on CPU workers, searches an
//! internal knowledge base on an RTX 4090, then synthesises and critiques the answer. A fourth,
//! [`chat`] (`agent-chat`), serves multi-turn conversations with the agent directly: a load-balancing endpoint
//! whose turns are pinned to the warm worker that holds the conversation, rehydrated from the
//! session store when that worker is gone.
//!
//! Everything does real work offline by default: retrieval makes real HTTP requests (to a small
//! bundled site served on loopback, [`site`], or any URL), extracts text from HTML and ranks
//! passages; the knowledge base is embedded with a deterministic feature-hashing embedding
//! ([`embedding`]) or any OpenAI-compatible embeddings API; decomposition, synthesis and critique
//! use an OpenAI-compatible chat API when one is configured ([`llm`]), and otherwise a clearly
//! labelled extractive fallback that quotes and cites its sources ([`pipeline`]).

pub mod chat;
pub mod embedding;
pub mod endpoints;
pub mod kb;
pub mod llm;
pub mod minilm;
pub mod pipeline;
pub mod retrieval;
pub mod site;
pub mod text;

pub use chat::agent_chat;
pub use endpoints::{AgentEvent, Answer, Question, embed_search, orchestrate, retrieve};

/// The HTTP client of retrieval and of the chat and embeddings APIs.
pub fn http_client() -> &'static reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::builder()
            .user_agent(concat!("research-agent/", env!("CARGO_PKG_VERSION")))
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .expect("a static client configuration")
    })
}
