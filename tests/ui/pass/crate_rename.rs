// `crate = ".."`: the SDK is reachable under another name (as after a rename in Cargo.toml).
#![deny(deprecated)]

extern crate endpoint_sdk as renamed;

use renamed::prelude::*;

pub struct Model;

fn load_model() -> Result<Model, String> {
    Ok(Model)
}

#[endpoint(crate = "renamed", cpu = "cpu3c-2-4", execution_timeout_ms = 10_000)]
async fn scrape(url: String) -> String {
    url
}

#[endpoint(
    crate = "renamed",
    gpu = ADA_24,
    init = load_model,
    calls = [scrape],
    execution_timeout_ms = 60_000
)]
async fn summarize(ctx: &Ctx, model: &Model, url: String, words: u32) -> Result<String, String> {
    let _ = (ctx, model);
    Ok(format!("{url}: {words}"))
}

fn main() {
    assert_eq!(<scrape as renamed::Endpoint>::NAME, "scrape");
    let c = <summarize as renamed::Endpoint>::CONFIG;
    assert_eq!(c.calls.as_ref(), ["scrape"]);
    assert!(c.has_init);
}
