// PENDING (should PASS, fails to compile): several input parameters, one of them a raw
// identifier. The attribute strips `r#` and generates a field named `type`, a keyword.
use endpoint_sdk::prelude::*;

#[endpoint(cpu = "cpu3c-1-2", execution_timeout_ms = 10_000)]
async fn classify(r#type: String, text: String) -> String {
    format!("{type}: {text}", type = r#type)
}

fn main() {}
