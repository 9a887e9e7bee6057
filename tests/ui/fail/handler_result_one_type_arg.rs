// `Result<T>` (an alias with a fixed error type) hides the error type from the attribute.
use endpoint_sdk::prelude::*;

type Result<T> = std::result::Result<T, String>;

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 10_000)]
async fn fetch(url: String) -> Result<String> {
    Ok(url)
}

fn main() {}
