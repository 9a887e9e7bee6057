//! The research agent's embedding model (issue 19.5): all-MiniLM-L6-v2 in candle on this CPU,
//! embedding the knowledge base's passages one at a time and in batches of 32, against the
//! feature-hashing fallback measured in the same run (what the example used before).
//!
//! `cargo bench -p endpoint-bench --bench embedding` (the model comes from
//! `./scripts/fetch-model.sh`, which `./scripts/bench.sh` runs first); `BENCH_ROUNDS` repeats
//! the knowledge base (default 5).

use std::hint::black_box;
use std::time::Instant;

use endpoint_bench::report::{Table, ratio};
use research_agent::embedding::hashing_embedding;
use research_agent::kb::passages;
use research_agent::minilm::MiniLm;

fn main() {
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let texts: Vec<String> = passages().into_iter().map(|p| p.text).collect();
    let n = texts.len() * rounds;
    let t = Instant::now();
    let model = MiniLm::load(&MiniLm::default_dir()).unwrap_or_else(|e| panic!("{e}"));
    let load = t.elapsed();

    let t = Instant::now();
    for _ in 0..rounds {
        for text in &texts {
            black_box(model.embed(&[text.as_str()]).unwrap());
        }
    }
    let single = n as f64 / t.elapsed().as_secs_f64();

    let t = Instant::now();
    for _ in 0..rounds {
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        for chunk in refs.chunks(32) {
            black_box(model.embed(chunk).unwrap());
        }
    }
    let batch = n as f64 / t.elapsed().as_secs_f64();

    let t = Instant::now();
    for _ in 0..rounds {
        for text in &texts {
            black_box(hashing_embedding(text));
        }
    }
    let hashing = n as f64 / t.elapsed().as_secs_f64();

    let mut table = Table::new(
        &format!(
            "embeddings of the knowledge base ({} passages × {rounds}), model loaded in {:.0} ms",
            texts.len(),
            load.as_secs_f64() * 1e3
        ),
        &["", "embeddings/s", "hashing is faster by"],
    );
    table.row(vec![
        "feature hashing (baseline)".into(),
        format!("{hashing:.0}"),
        "1×".into(),
    ]);
    table.row(vec![
        "all-MiniLM-L6-v2, one at a time".into(),
        format!("{single:.0}"),
        ratio(hashing, single),
    ]);
    table.row(vec![
        "all-MiniLM-L6-v2, batches of 32".into(),
        format!("{batch:.0}"),
        ratio(hashing, batch),
    ]);
    table.print();
}
