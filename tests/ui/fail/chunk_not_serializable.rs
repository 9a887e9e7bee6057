// The handler streams chunks of a type that cannot travel as JSON.
use endpoint_sdk::prelude::*;

struct Embedding(Vec<f32>);

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 60_000)]
async fn embed(chunks: Chunks<Embedding>, text: String) -> u32 {
    let _ = (chunks, text);
    0
}

fn main() {}
