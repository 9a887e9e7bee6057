// The error type travels to callers and is shown to them: `Serialize`, `Deserialize` and
// `Display`.
use endpoint_sdk::prelude::*;

#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub enum FetchError {
    NotFound,
}

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 10_000)]
async fn fetch(url: String) -> Result<String, FetchError> {
    if url.is_empty() {
        return Err(FetchError::NotFound);
    }
    Ok(url)
}

fn main() {}
