//! The internal knowledge base that `embedding-search` serves: bundled notes, split into
//! passages and embedded once per worker (its `init`).

use serde::{Deserialize, Serialize};

use crate::embedding::{EmbedError, Embedder, cosine};
use crate::text;

/// One bundled note: (id, markdown).
const DOCS: &[(&str, &str)] = &[
    ("vram-budget", include_str!("kb/vram-budget.md")),
    ("kv-cache-70b", include_str!("kb/kv-cache-70b.md")),
    ("quantization", include_str!("kb/quantization.md")),
    ("gpu-tiers", include_str!("kb/gpu-tiers.md")),
    ("agent-sessions", include_str!("kb/agent-sessions.md")),
    ("cold-starts", include_str!("kb/cold-starts.md")),
    ("timeouts", include_str!("kb/timeouts.md")),
    ("embeddings", include_str!("kb/embeddings.md")),
    ("tensor-parallel", include_str!("kb/tensor-parallel.md")),
    (
        "serving-throughput",
        include_str!("kb/serving-throughput.md"),
    ),
];

/// A passage of the knowledge base.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KbPassage {
    /// The note's id, e.g. `kv-cache-70b`.
    pub doc: String,
    /// The note's title.
    pub title: String,
    /// The passage.
    pub text: String,
}

/// A search result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KbHit {
    /// The passage.
    pub passage: KbPassage,
    /// Cosine similarity to the query.
    pub score: f32,
    /// What embedded the query and the passages.
    #[serde(default)]
    pub embedded_by: String,
}

/// Every passage of the bundled notes (paragraphs, split to at most three sentences).
pub fn passages() -> Vec<KbPassage> {
    let mut out = Vec::new();
    for (id, md) in DOCS {
        let title = md
            .lines()
            .find_map(|l| l.strip_prefix("# "))
            .unwrap_or(id)
            .to_string();
        for para in md.split("\n\n").filter(|p| !p.starts_with('#')) {
            for passage in text::passages(&para.replace('\n', " "), 3) {
                out.push(KbPassage {
                    doc: id.to_string(),
                    title: title.clone(),
                    text: passage,
                });
            }
        }
    }
    out
}

/// The knowledge base with its vectors: the per-worker state of `embedding-search`.
pub struct KbIndex {
    embedder: Embedder,
    passages: Vec<KbPassage>,
    vectors: Vec<Vec<f32>>,
}

impl KbIndex {
    /// Embeds every passage.
    pub async fn build(embedder: Embedder) -> Result<KbIndex, EmbedError> {
        let passages = passages();
        let texts: Vec<String> = passages
            .iter()
            .map(|p| format!("{} {}", p.title, p.text))
            .collect();
        let vectors = embedder.embed(&texts).await?;
        Ok(KbIndex {
            embedder,
            passages,
            vectors,
        })
    }

    /// How many passages are indexed.
    pub fn len(&self) -> usize {
        self.passages.len()
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.passages.is_empty()
    }

    /// What embeds the passages.
    pub fn embedder(&self) -> &Embedder {
        &self.embedder
    }

    /// The `k` passages closest to `query` by cosine similarity.
    pub async fn search(&self, query: &str, k: usize) -> Result<Vec<KbHit>, EmbedError> {
        let q = self.embedder.embed(&[query.to_string()]).await?.remove(0);
        let mut scored: Vec<(usize, f32)> = self
            .vectors
            .iter()
            .enumerate()
            .map(|(i, v)| (i, cosine(&q, v)))
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1));
        Ok(scored
            .into_iter()
            .take(k)
            .map(|(i, score)| KbHit {
                passage: self.passages[i].clone(),
                score,
                embedded_by: self.embedder.describe(),
            })
            .collect())
    }
}
