use endpoint_sdk::external;

// A key of `#[endpoint]` that `#[external]` does not take, and an `env` that is not a name.
#[external(url = env(LLM_BASE_URL), gpu = A100, execution_timeout_ms = 1_000)]
pub struct reasoning_model;

// A callee whose ceiling does not fit inside its caller's.
#[external(url = env("LLM_BASE_URL"), execution_timeout_ms = 200_000)]
pub struct slow_model;

#[endpoint_sdk::endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 120_000, calls = [slow_model])]
async fn agent() -> u32 {
    1
}

// Not a unit struct.
#[external(url = "http://127.0.0.1:8000/v1")]
pub struct with_fields {
    pub base: String,
}

fn main() {}
