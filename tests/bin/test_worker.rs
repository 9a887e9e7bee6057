//! A binary with every test endpoint, run as worker processes by the worker tests.

use endpoint_tests as _;

#[tokio::main]
async fn main() -> endpoint_sdk::Result<()> {
    endpoint_sdk::main().await
}
