// The input type must implement `Deserialize`; the error points at the user's type.
use endpoint_sdk::prelude::*;

pub struct Query {
    pub text: String,
}

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 10_000)]
async fn search(query: Query) -> String {
    query.text
}

fn main() {}
