// Several input parameters, one of them a raw identifier: it travels under its plain name.
use endpoint_sdk::prelude::*;
use endpoint_sdk::EndpointDef;

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 10_000)]
async fn classify(r#type: String, text: String) -> String {
    format!("{type}: {text}", type = r#type)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let def = EndpointDef::of::<classify>();
    let state = def.init().await.unwrap();
    let input = serde_json::json!({"type": "spam", "text": "win big"});
    let out = def.run(&state, Ctx::detached("classify"), input).await.unwrap();
    assert_eq!(out, serde_json::json!("spam: win big"));
}
