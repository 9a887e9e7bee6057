// `calls = [..]`: a chain whose callees all finish inside their caller's ceiling, naming callees
// by a plain name, a relative path and a `crate::` path. The config records the callees'
// endpoint names (not their function names).
#![deny(deprecated)]

use endpoint_sdk::prelude::*;

mod search {
    use endpoint_sdk::prelude::*;

    #[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 10_000)]
    pub async fn embed_search(query: String) -> Vec<String> {
        vec![query]
    }
}

#[endpoint(name = "web-retrieval", cpu = "cpu5c-4-8", execution_timeout_ms = 30_000)]
async fn scrape(url: String) -> String {
    url
}

#[endpoint(
    cpu = "cpu3c-2-4",
    calls = [scrape, search::embed_search],
    execution_timeout_ms = 120_000
)]
async fn research(topic: String) -> String {
    topic
}

#[endpoint(
    cpu = "cpu3c-2-4",
    calls = [research, crate::search::embed_search],
    max_steps = 40,
    execution_timeout_ms = 600_000
)]
async fn orchestrate(ctx: Ctx, goal: String) -> String {
    // The typed handles of the callees: call, submit, fan_out.
    let _ = research::call(&ctx, goal.clone());
    let _ = search::embed_search::fan_out(&ctx, vec![goal.clone()]).concurrency(2);
    goal
}

fn main() {
    assert_eq!(<orchestrate as Endpoint>::CONFIG.max_steps, Some(40));
    assert!(<scrape as Endpoint>::CONFIG.calls.is_empty());
    assert_eq!(
        <research as Endpoint>::CONFIG.calls.as_ref(),
        ["web-retrieval", "embed_search"]
    );
    assert_eq!(
        <orchestrate as Endpoint>::CONFIG.calls.as_ref(),
        ["research", "embed_search"]
    );
    // The registry sees all four, and every callee is in the binary.
    let defs = endpoint_sdk::registry::endpoints();
    let names: Vec<&str> = defs.iter().map(|d| d.name()).collect();
    assert_eq!(
        names,
        ["embed_search", "orchestrate", "research", "web-retrieval"]
    );
    endpoint_sdk::registry::check(&defs).unwrap();
}
