//! Text embeddings for ranking: a deterministic feature-hashing embedding that needs no model
//! download (the offline default), or any OpenAI-compatible `/embeddings` API.
//!
//! The hashing embedding maps word unigrams and bigrams into [`DIMS`] signed buckets (FNV-1a),
//! weighted by `1 + ln(tf)` and L2-normalised. Cosine similarity then measures shared
//! vocabulary, not meaning: good enough to rank passages offline, and honest about it.

use serde::Deserialize;

use crate::text;

/// Dimensions of the hashing embedding.
pub const DIMS: usize = 1024;

fn fnv1a(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The feature-hashing embedding of `text`.
pub fn hashing_embedding(text: &str) -> Vec<f32> {
    let words: Vec<String> = text::words(text)
        .into_iter()
        .filter(|w| !text::is_stopword(w))
        .map(|w| text::stem(&w).to_string())
        .collect();
    let mut counts: std::collections::HashMap<String, f32> = std::collections::HashMap::new();
    for w in &words {
        *counts.entry(w.clone()).or_default() += 1.0;
    }
    for pair in words.windows(2) {
        *counts
            .entry(format!("{} {}", pair[0], pair[1]))
            .or_default() += 0.5;
    }
    let mut v = vec![0f32; DIMS];
    for (feature, tf) in counts {
        let h = fnv1a(&feature);
        let sign = if h >> 63 == 0 { 1.0 } else { -1.0 };
        v[(h % DIMS as u64) as usize] += sign * (1.0 + tf.ln());
    }
    normalize(&mut v);
    v
}

fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// Cosine similarity of two vectors (0 when either is zero).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}

/// An embeddings API failed.
#[derive(Debug, thiserror::Error)]
#[error("the embeddings API at {url} failed: {message}")]
pub struct EmbedError {
    /// The API.
    pub url: String,
    /// What happened.
    pub message: String,
}

/// Where embeddings come from.
#[derive(Debug, Clone)]
pub enum Embedder {
    /// all-MiniLM-L6-v2, run here with candle (`./scripts/fetch-model.sh` fetches it).
    Local(std::sync::Arc<crate::minilm::MiniLm>),
    /// The deterministic feature-hashing embedding: the labelled fallback when the model is
    /// absent (it matches words, not meaning).
    Hashing,
    /// An OpenAI-compatible `POST {base}/embeddings` API.
    Remote {
        /// Base URL, e.g. `https://api.openai.com/v1`.
        base: String,
        /// Model name.
        model: String,
        /// Bearer key, if any.
        key: Option<String>,
    },
}

impl Embedder {
    /// `EMBEDDINGS_BASE_URL` (+ `EMBEDDINGS_MODEL`, `EMBEDDINGS_API_KEY`) selects a remote API;
    /// otherwise all-MiniLM-L6-v2 when its files are there (`EMBEDDING_MODEL_DIR`, default
    /// `target/models/all-MiniLM-L6-v2`), else the hashing embedding, with a warning that says
    /// why and how to fetch the model.
    pub fn from_env() -> Self {
        if std::env::var("EMBEDDINGS_BASE_URL").is_ok_and(|v| !v.is_empty()) {
            return Self::remote_from_env();
        }
        match crate::minilm::MiniLm::load(&crate::minilm::MiniLm::default_dir()) {
            Ok(m) => Embedder::Local(std::sync::Arc::new(m)),
            Err(e) => {
                tracing::warn!("{e}; searching the knowledge base with the hashing fallback");
                Embedder::Hashing
            }
        }
    }

    fn remote_from_env() -> Self {
        match std::env::var("EMBEDDINGS_BASE_URL")
            .ok()
            .filter(|v| !v.is_empty())
        {
            Some(base) => Embedder::Remote {
                base: base.trim_end_matches('/').to_string(),
                model: std::env::var("EMBEDDINGS_MODEL")
                    .unwrap_or_else(|_| "text-embedding-3-small".to_string()),
                key: std::env::var("EMBEDDINGS_API_KEY")
                    .ok()
                    .filter(|v| !v.is_empty()),
            },
            None => Embedder::Hashing,
        }
    }

    /// A short description for reports.
    pub fn describe(&self) -> String {
        match self {
            Embedder::Local(m) => {
                format!("all-MiniLM-L6-v2 (384 dims, candle on {})", m.device_name())
            }
            Embedder::Hashing => format!(
                "feature-hashing fallback ({DIMS} dims; the model is absent: ./scripts/fetch-model.sh)"
            ),
            Embedder::Remote { base, model, .. } => format!("{model} at {base}"),
        }
    }

    /// Embeds every text.
    pub async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        match self {
            Embedder::Hashing => Ok(texts.iter().map(|t| hashing_embedding(t)).collect()),
            Embedder::Local(m) => {
                let (m, texts) = (m.clone(), texts.to_vec());
                // Model work is CPU-bound: off the async threads.
                tokio::task::spawn_blocking(move || {
                    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                    // Batches of 32 bound the padded tensor's size.
                    let mut out = Vec::with_capacity(refs.len());
                    for chunk in refs.chunks(32) {
                        out.extend(m.embed(chunk)?);
                    }
                    Ok(out)
                })
                .await
                .map_err(|e| EmbedError {
                    url: "local model".into(),
                    message: e.to_string(),
                })?
                .map_err(|e: crate::minilm::ModelError| EmbedError {
                    url: "local model".into(),
                    message: e.to_string(),
                })
            }
            Embedder::Remote { base, model, key } => {
                #[derive(Deserialize)]
                struct Item {
                    embedding: Vec<f32>,
                    index: usize,
                }
                #[derive(Deserialize)]
                struct Resp {
                    data: Vec<Item>,
                }
                let url = format!("{base}/embeddings");
                let fail = |message: String| EmbedError {
                    url: url.clone(),
                    message,
                };
                let mut req = crate::http_client()
                    .post(&url)
                    .json(&serde_json::json!({ "model": model, "input": texts }));
                if let Some(k) = key {
                    req = req.bearer_auth(k);
                }
                let resp = req.send().await.map_err(|e| fail(e.to_string()))?;
                if !resp.status().is_success() {
                    let status = resp.status();
                    let body = resp.text().await.unwrap_or_default();
                    return Err(fail(format!(
                        "{status}: {}",
                        body.chars().take(200).collect::<String>()
                    )));
                }
                let mut items = resp
                    .json::<Resp>()
                    .await
                    .map_err(|e| fail(e.to_string()))?
                    .data;
                items.sort_by_key(|i| i.index);
                if items.len() != texts.len() {
                    return Err(fail(format!(
                        "asked for {} embeddings, got {}",
                        texts.len(),
                        items.len()
                    )));
                }
                Ok(items
                    .into_iter()
                    .map(|mut i| {
                        normalize(&mut i.embedding);
                        i.embedding
                    })
                    .collect())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hashing_embedding_is_deterministic_and_ranks_shared_vocabulary_higher() {
        let a = hashing_embedding("KV cache size per token for a 70B model");
        assert_eq!(
            a,
            hashing_embedding("KV cache size per token for a 70B model")
        );
        let near = hashing_embedding("The KV cache of a 70B model grows per token");
        let far = hashing_embedding("Cold starts take seconds on serverless workers");
        assert!(cosine(&a, &near) > cosine(&a, &far) + 0.2);
        assert!((cosine(&a, &a) - 1.0).abs() < 1e-5);
        assert_eq!(a.len(), DIMS);
    }
}
