// The output type must implement `Serialize`.
use endpoint_sdk::prelude::*;

pub struct Answer {
    pub text: String,
}

#[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 10_000)]
async fn answer(question: String) -> Answer {
    Answer { text: question }
}

fn main() {}
