//! Well-known open models, as `model(preset = ..)` names them: the figures a GPU-memory budget
//! needs (parameters, layers, key/value heads, head size), each from the model's published
//! `config.json` on Hugging Face (`num_hidden_layers`, `num_key_value_heads`, and `head_dim` or
//! `hidden_size / num_attention_heads`) and its model card (parameters).
//!
//! The embedding figure is `vocab_size × hidden_size`, twice unless `tie_word_embeddings`
//! (Llama 3.1 8B: 2 × 128 256 × 4 096 = 1 051 M; Gemma 2 27B, tied: 256 000 × 4 608 = 1 180 M).
//!
//! To add a model: copy a row, take the figures from its `config.json` and the parameter count
//! from its card, and name the source.

use serde::Serialize;

/// One model's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ModelPreset {
    /// The identifier written in `model(preset = ..)`, e.g. `LLAMA_3_1_70B`.
    pub ident: &'static str,
    /// The model's name.
    pub name: &'static str,
    /// Parameters, in millions (all experts of a mixture of experts: all are in memory).
    pub params_m: u64,
    /// Of those, the token embedding and output matrices (`vocab_size × hidden_size`, once if
    /// `tie_word_embeddings`), in millions: quantized checkpoints (AWQ, GPTQ) keep them at 16
    /// bits.
    pub embedding_params_m: u64,
    /// Transformer layers (`num_hidden_layers`).
    pub layers: u32,
    /// Key/value heads per layer (`num_key_value_heads`; fewer than the query heads with
    /// grouped-query attention).
    pub kv_heads: u32,
    /// Size of one head (`head_dim`, or `hidden_size / num_attention_heads`).
    pub head_dim: u32,
    /// The longest context the model takes, in tokens (`max_position_embeddings`).
    pub max_context: u32,
    /// Where the figures come from.
    pub source: &'static str,
}

const fn preset(
    ident: &'static str,
    name: &'static str,
    [params_m, embedding_params_m]: [u64; 2],
    [layers, kv_heads, head_dim, max_context]: [u32; 4],
    source: &'static str,
) -> ModelPreset {
    ModelPreset {
        ident,
        name,
        params_m,
        embedding_params_m,
        layers,
        kv_heads,
        head_dim,
        max_context,
        source,
    }
}

/// The presets.
pub const MODELS: &[ModelPreset] = &[
    preset(
        "LLAMA_3_1_8B",
        "Llama 3.1 8B",
        [8_030, 1_051],
        [32, 8, 128, 131_072],
        "huggingface.co/meta-llama/Llama-3.1-8B config.json; 8.03B parameters (model card)",
    ),
    preset(
        "LLAMA_3_1_70B",
        "Llama 3.1 70B",
        [70_550, 2_101],
        [80, 8, 128, 131_072],
        "huggingface.co/meta-llama/Llama-3.1-70B config.json; 70.6B parameters (model card)",
    ),
    preset(
        "LLAMA_3_3_70B",
        "Llama 3.3 70B",
        [70_550, 2_101],
        [80, 8, 128, 131_072],
        "huggingface.co/meta-llama/Llama-3.3-70B-Instruct config.json (the 3.1 70B architecture)",
    ),
    preset(
        "QWEN2_5_7B",
        "Qwen2.5 7B",
        [7_620, 1_090],
        [28, 4, 128, 32_768],
        "huggingface.co/Qwen/Qwen2.5-7B config.json (hidden 3584 / 28 heads); 7.61B parameters",
    ),
    preset(
        "QWEN2_5_32B",
        "Qwen2.5 32B",
        [32_760, 1_557],
        [64, 8, 128, 32_768],
        "huggingface.co/Qwen/Qwen2.5-32B config.json (hidden 5120 / 40 heads); 32.8B parameters",
    ),
    preset(
        "QWEN2_5_72B",
        "Qwen2.5 72B",
        [72_710, 2_491],
        [80, 8, 128, 32_768],
        "huggingface.co/Qwen/Qwen2.5-72B config.json (hidden 8192 / 64 heads); 72.7B parameters",
    ),
    preset(
        "MISTRAL_7B",
        "Mistral 7B v0.3",
        [7_250, 268],
        [32, 8, 128, 32_768],
        "huggingface.co/mistralai/Mistral-7B-v0.3 config.json; 7.25B parameters",
    ),
    preset(
        "MIXTRAL_8X7B",
        "Mixtral 8x7B",
        [46_700, 262],
        [32, 8, 128, 32_768],
        "huggingface.co/mistralai/Mixtral-8x7B-v0.1 config.json; 46.7B parameters, all experts held",
    ),
    preset(
        "GEMMA_2_27B",
        "Gemma 2 27B",
        [27_230, 1_180],
        [46, 16, 128, 8_192],
        "huggingface.co/google/gemma-2-27b config.json (head_dim 128); 27.2B parameters",
    ),
];

/// The preset written `ident`.
pub fn model(ident: &str) -> Option<&'static ModelPreset> {
    MODELS.iter().find(|m| m.ident == ident)
}

/// A precision as written (`fp16`, `int4`, `awq`, ...): its bits per value.
pub fn precision_bits(written: &str) -> Option<u32> {
    Some(match written.to_ascii_lowercase().as_str() {
        "fp32" | "f32" | "float32" => 32,
        "fp16" | "f16" | "bf16" | "float16" | "bfloat16" | "half" => 16,
        "fp8" | "f8" | "int8" | "i8" | "q8" => 8,
        "int4" | "i4" | "awq" | "gptq" | "q4" | "nf4" => 4,
        _ => return None,
    })
}

/// The precisions `precision_bits` knows, for error messages.
pub const PRECISIONS: &str = "fp32, fp16 (bf16), fp8 (int8), int4 (awq, gptq)";
