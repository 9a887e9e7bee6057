// Problems in the attribute and in the handler's signature, reported together.
use endpoint_sdk::prelude::*;

#[endpoint(gpu = [ADA_24, AMPERE_80], min_vram_gb = 60, interactive, allow(cold_start))]
fn generate(ctx: Ctx, prompt: &str, again: Ctx) -> String {
    let _ = (ctx, again);
    prompt.to_string()
}

fn main() {}
