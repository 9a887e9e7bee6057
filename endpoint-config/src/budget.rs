//! The GPU-memory budget of a worker that holds a model: its weights, plus the key/value cache
//! of every session it serves at once, within the share of the cards' memory an inference
//! server gives them.
//!
//! - weights = parameters × weight bits / 8; below 16 bits, the token embedding and output
//!   matrices stay at 16 bits (AWQ and GPTQ checkpoints keep them), and 4-bit weights carry a
//!   16-bit scale and a 16-bit zero point per group of 128 (0.25 bits more per weight);
//! - KV cache per token = 2 (keys and values) × layers × KV heads × head size × KV bits / 8;
//! - per session = KV per token × context; needed = weights + sessions × per session.
//!
//! The headroom follows vLLM's default `gpu_memory_utilization = 0.9`: the server takes 90 % of
//! each card's memory, the rest is left to the CUDA context and other processes. The peak
//! activations of a forward pass also come out of those 90 % in vLLM; they depend on the batch
//! (`max_num_batched_tokens`) and are not counted here, so a budget with little to spare may not
//! hold on the card: leave a session's worth. Memory is counted in GiB (2³⁰ bytes); a card's
//! size is taken as the catalog lists it (an "80 GB" A100 holds 80 GiB; some "24 GB" cards,
//! such as the L4, hold a little less).

use serde::{Deserialize, Serialize};

/// The share of a card's memory weights and cache may use (vLLM's default).
pub const GPU_MEMORY_UTILIZATION: f64 = 0.9;

const GIB: f64 = (1u64 << 30) as f64;

/// What a worker holds: a model's shape, its precisions, the context and sessions at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelSpec {
    /// The catalog preset it came from (`LLAMA_3_1_70B`), if any.
    pub preset: Option<crate::model::Text>,
    /// Parameters, in millions.
    pub params_m: u64,
    /// Of those, the embedding and output matrices (kept at 16 bits when quantized), in
    /// millions.
    pub embedding_params_m: u64,
    /// Transformer layers.
    pub layers: u32,
    /// Key/value heads per layer.
    pub kv_heads: u32,
    /// Size of one head.
    pub head_dim: u32,
    /// Bits per weight (16 for fp16, 4 for int4).
    pub weight_bits: u32,
    /// Bits per cached key or value.
    pub kv_bits: u32,
    /// Tokens of context each session holds.
    pub context: u32,
    /// Sessions served at once (jobs in flight).
    pub sessions: u32,
}

/// The budget's figures, in GiB.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Budget {
    /// The weights.
    pub weights_gib: f64,
    /// The KV cache of one token, in KiB.
    pub kv_per_token_kib: f64,
    /// The KV cache of one session (its whole context).
    pub kv_per_session_gib: f64,
    /// Sessions at once.
    pub sessions: u32,
    /// Weights and every session's cache.
    pub needed_gib: f64,
}

impl ModelSpec {
    /// Bytes of KV cache per token.
    pub fn kv_bytes_per_token(&self) -> f64 {
        2.0 * f64::from(self.layers)
            * f64::from(self.kv_heads)
            * f64::from(self.head_dim)
            * f64::from(self.kv_bits)
            / 8.0
    }

    /// Bits stored per quantized weight: its bits, plus group scales and zeros at 4 bits.
    pub fn stored_bits(&self) -> f64 {
        f64::from(self.weight_bits) + if self.weight_bits <= 4 { 0.25 } else { 0.0 }
    }

    /// Parameters kept at 16 bits (the embeddings, when the rest is quantized), in millions.
    pub fn kept_params_m(&self) -> u64 {
        if self.weight_bits < 16 {
            self.embedding_params_m.min(self.params_m)
        } else {
            0
        }
    }

    /// The budget for `sessions` sessions.
    pub fn budget_for(&self, sessions: u32) -> Budget {
        let kept = self.kept_params_m();
        let body = (self.params_m - kept) as f64 * 1e6;
        let weights_gib = (body * self.stored_bits() / 8.0 + kept as f64 * 1e6 * 2.0) / GIB;
        let per_token = self.kv_bytes_per_token();
        let kv_per_session_gib = per_token * f64::from(self.context) / GIB;
        Budget {
            weights_gib,
            kv_per_token_kib: per_token / 1024.0,
            kv_per_session_gib,
            sessions,
            needed_gib: weights_gib + f64::from(sessions) * kv_per_session_gib,
        }
    }

    /// The budget as declared.
    pub fn budget(&self) -> Budget {
        self.budget_for(self.sessions)
    }

    /// The most sessions that fit in `usable_gib` (0 when the weights alone do not).
    pub fn sessions_fitting(&self, usable_gib: f64) -> u32 {
        let b = self.budget_for(0);
        if b.weights_gib > usable_gib || b.kv_per_session_gib <= 0.0 {
            return 0;
        }
        ((usable_gib - b.weights_gib) / b.kv_per_session_gib).floor() as u32
    }

    /// The longest context at which `self.sessions` sessions fit in `usable_gib`, in tokens.
    pub fn context_fitting(&self, usable_gib: f64) -> u32 {
        let b = self.budget_for(0);
        let per_token_gib = self.kv_bytes_per_token() / GIB;
        if b.weights_gib > usable_gib || self.sessions == 0 || per_token_gib <= 0.0 {
            return 0;
        }
        ((usable_gib - b.weights_gib) / (per_token_gib * f64::from(self.sessions))).floor() as u32
    }
}

/// What `cards` cards of `vram_gb` each give weights and cache.
pub fn usable_gib(vram_gb: u32, cards: u32) -> f64 {
    f64::from(vram_gb) * f64::from(cards) * GPU_MEMORY_UTILIZATION
}

/// `x` GiB, with two decimals under 10 (a session's cache), one above.
pub fn gib(x: f64) -> String {
    if x.abs() < 10.0 {
        format!("{x:.2} GB")
    } else {
        format!("{x:.1} GB")
    }
}

/// `n` and its noun, singular or plural.
pub fn plural(n: u32, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

impl Budget {
    /// The arithmetic, one line per term, as errors and the manifest show it.
    pub fn lines(&self, spec: &ModelSpec) -> Vec<String> {
        let kept = spec.kept_params_m();
        let weights = if kept > 0 {
            format!(
                "weights: {:.2}B parameters × {} bits + {:.2}B of embeddings at 16 bits = {}",
                (spec.params_m - kept) as f64 / 1000.0,
                spec.stored_bits(),
                kept as f64 / 1000.0,
                gib(self.weights_gib)
            )
        } else {
            format!(
                "weights: {:.2}B parameters × {} bits = {}",
                spec.params_m as f64 / 1000.0,
                spec.weight_bits,
                gib(self.weights_gib)
            )
        };
        vec![
            weights,
            format!(
                "KV cache: 2 × {} layers × {} KV heads × {} head size × {} bits = {:.0} KiB per \
                 token; × {} tokens of context = {} per session",
                spec.layers,
                spec.kv_heads,
                spec.head_dim,
                spec.kv_bits,
                self.kv_per_token_kib,
                spec.context,
                gib(self.kv_per_session_gib)
            ),
            format!(
                "needed: {} + {} × {} = {}",
                gib(self.weights_gib),
                plural(self.sessions, "session"),
                gib(self.kv_per_session_gib),
                gib(self.needed_gib)
            ),
        ]
    }
}

/// The budget of `config`'s `model(..)`, line by line, with the card it must fit on (the
/// smallest of the selection) and what it leaves: for the manifest and the dry run.
pub fn describe(config: &crate::EndpointConfig) -> Option<Vec<String>> {
    let m = config.model.as_ref()?;
    let budget = m.budget();
    let mut lines = budget.lines(m);
    if let crate::Hardware::Gpu { count, .. } = &config.hardware
        && let Some(card) = config.gpu_types().into_iter().min_by_key(|t| t.vram_gb)
    {
        let usable = usable_gib(card.vram_gb, *count);
        lines.push(format!(
            "fits: {} of {} ({} % of {} GB × {count}), {} to spare; {} per worker, \
             concurrency {}",
            gib(budget.needed_gib),
            gib(usable),
            (GPU_MEMORY_UTILIZATION * 100.0) as u32,
            card.vram_gb,
            gib(usable - budget.needed_gib),
            plural(m.sessions, "session"),
            config.concurrency
        ));
    }
    Some(lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::models::model;

    fn spec(ident: &str, weight_bits: u32, context: u32, sessions: u32) -> ModelSpec {
        let m = model(ident).unwrap();
        ModelSpec {
            preset: Some(ident.to_string().into()),
            params_m: m.params_m,
            embedding_params_m: m.embedding_params_m,
            layers: m.layers,
            kv_heads: m.kv_heads,
            head_dim: m.head_dim,
            weight_bits,
            kv_bits: 16,
            context,
            sessions,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 0.005
    }

    #[test]
    fn llama_3_1_8b_at_fp16_with_four_8k_sessions() {
        // Weights: 8.03e9 × 2 B = 16.06e9 B = 14.957 GiB. KV: 2 × 32 × 8 × 128 × 2 B =
        // 131 072 B = 128 KiB per token; × 8192 = 1 GiB per session; needed 14.957 + 4.
        let b = spec("LLAMA_3_1_8B", 16, 8_192, 4).budget();
        assert!(close(b.weights_gib, 14.957), "{b:?}");
        assert!(close(b.kv_per_token_kib, 128.0));
        assert!(close(b.kv_per_session_gib, 1.0));
        assert!(close(b.needed_gib, 18.957));
    }

    #[test]
    fn llama_3_1_70b_at_int4_on_an_a100_80gb() {
        // Weights: (70 550 − 2 101) M at 4 bits + 0.25 bits of group scales and zeros =
        // 68 449e6 × 4.25 / 8 = 36 363.5e6 B, and the 2 101 M embedding parameters at 16 bits =
        // 4 202e6 B: 40 565.5e6 B = 37.780 GiB. KV: 2 × 80 × 8 × 128 × 2 B = 327 680 B = 320 KiB
        // per token; × 16 384 = 5 GiB per session. Usable on one 80 GB card: 72 GiB:
        // (72 − 37.780) / 5 = 6.84, so 6 sessions.
        let s = spec("LLAMA_3_1_70B", 4, 16_384, 6);
        let b = s.budget();
        assert!(close(b.weights_gib, 37.780), "{b:?}");
        assert!(close(b.kv_per_token_kib, 320.0));
        assert!(close(b.kv_per_session_gib, 5.0));
        assert_eq!(s.sessions_fitting(usable_gib(80, 1)), 6);
        // At fp16 the weights alone (131.41 GiB) need two cards.
        let fp16 = spec("LLAMA_3_1_70B", 16, 16_384, 1);
        assert!(
            close(fp16.budget().weights_gib, 131.412),
            "{:?}",
            fp16.budget()
        );
        assert_eq!(fp16.sessions_fitting(usable_gib(80, 1)), 0);
        assert_eq!(fp16.sessions_fitting(usable_gib(80, 2)), 2);
    }

    #[test]
    fn qwen2_5_7b_with_grouped_query_attention_at_its_full_context() {
        // KV: 2 × 28 × 4 × 128 × 2 B = 57 344 B = 56 KiB per token; × 32 768 = 1.75 GiB.
        // Weights: 7.62e9 × 2 B = 15.24e9 B = 14.193 GiB. On a 24 GB card (21.6 usable):
        // (21.6 − 14.193) / 1.75 = 4.23: 4 sessions; at 2 sessions the longest context is
        // (21.6 − 14.1934) GiB / (2 × 56 KiB) = 69 343 tokens.
        let s = spec("QWEN2_5_7B", 16, 32_768, 2);
        let b = s.budget();
        assert!(close(b.kv_per_token_kib, 56.0));
        assert!(close(b.kv_per_session_gib, 1.75));
        assert!(close(b.weights_gib, 14.193), "{b:?}");
        assert_eq!(s.sessions_fitting(usable_gib(24, 1)), 4);
        assert_eq!(s.context_fitting(usable_gib(24, 1)), 69_343);
    }
}
