//! The embedding endpoint's real model, all-MiniLM-L6-v2 in candle, against an independent
//! implementation: cosine similarities of sentence pairs computed by a numpy version of the same
//! model (`examples/research-agent/reference/minilm_reference.py`: BERT written out in numpy,
//! float64, reading the same model.safetensors and tokenizer.json with the `safetensors` and
//! `tokenizers` Python packages; run on 2026-12-07 on this repository's fetched model). The
//! model comes from `./scripts/fetch-model.sh`, which the test command runs first.

use research_agent::embedding::{cosine, hashing_embedding};
use research_agent::minilm::{MiniLm, ModelError};

/// (a, b, cosine) from the numpy reference.
const REFERENCE: [(&str, &str, f32); 4] = [
    (
        "How much GPU memory does a 70B model need?",
        "What VRAM is required to serve a seventy billion parameter LLM?",
        0.51308,
    ),
    (
        "How much GPU memory does a 70B model need?",
        "The bakery opens at seven in the morning.",
        0.10215,
    ),
    (
        "Workers scale to zero when idle.",
        "Idle workers are stopped so nothing is billed.",
        0.64382,
    ),
    (
        "A cat sits on the mat.",
        "Quarterly revenue grew by twelve percent.",
        -0.01677,
    ),
];

fn model() -> MiniLm {
    MiniLm::load(&MiniLm::default_dir()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_models_similarities_match_an_independent_implementation() {
    let m = model();
    for (a, b, expected) in REFERENCE {
        let v = m.embed(&[a, b]).unwrap();
        assert_eq!(v[0].len(), 384);
        let norm: f32 = v[0].iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "unit length: {norm}");
        let c = cosine(&v[0], &v[1]);
        assert!(
            (c - expected).abs() < 2e-3,
            "{a:?} / {b:?}: candle {c:.5}, reference {expected:.5}"
        );
    }
}

#[test]
fn a_batch_embeds_each_text_as_it_would_alone() {
    // Texts of different lengths are padded to the longest: the padding must not count.
    let m = model();
    let texts = [
        "Short.",
        "A much longer sentence about workers that scale to zero when idle.",
    ];
    let batch = m.embed(&texts).unwrap();
    for (t, b) in texts.iter().zip(&batch) {
        let alone = &m.embed(&[t]).unwrap()[0];
        assert!(cosine(alone, b) > 0.9999, "{t:?}");
    }
}

#[test]
fn a_paraphrase_finds_its_note_where_hashing_does_not() {
    let query = "What VRAM is required to serve a seventy billion parameter LLM?";
    let notes = [
        "How much GPU memory does a 70B model need?",
        "The bakery opens at seven in the morning.",
        "A required parameter was missing from the billing request.",
    ];
    let best = |scores: Vec<f32>| {
        scores
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(i, _)| i)
            .unwrap()
    };
    let m = model();
    let q = &m.embed(&[query]).unwrap()[0];
    let real = m.embed(&notes).unwrap();
    assert_eq!(
        best(real.iter().map(|n| cosine(q, n)).collect()),
        0,
        "the model"
    );
    let hq = hashing_embedding(query);
    let hashed = best(
        notes
            .iter()
            .map(|n| cosine(&hq, &hashing_embedding(n)))
            .collect(),
    );
    assert_ne!(hashed, 0, "hashing matches words, not meaning");
}

#[test]
fn a_missing_file_is_named_with_the_command_that_fetches_it() {
    let dir = std::env::temp_dir().join(format!("minilm-missing-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.json"), "{}").unwrap();
    let Err(e) = MiniLm::load(&dir) else {
        panic!("a model without its files loaded");
    };
    assert!(
        matches!(
            e,
            ModelError::Missing {
                file: "tokenizer.json",
                ..
            }
        ),
        "{e}"
    );
    let message = e.to_string();
    assert!(message.contains("tokenizer.json") && message.contains("./scripts/fetch-model.sh"));
    let _ = std::fs::remove_dir_all(&dir);
}
