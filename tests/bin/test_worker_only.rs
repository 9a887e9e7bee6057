//! The test endpoints behind `endpoint_sdk::worker_main()`: the worker alone, as a production
//! image built with endpoint-sdk's `worker-only` feature runs it.

use endpoint_tests as _;

#[tokio::main]
async fn main() -> endpoint_sdk::Result<()> {
    endpoint_sdk::worker_main().await
}
