// PENDING: a CPU endpoint (CPU workers exist only in EU-RO-1) with its network volume in
// US-KS-2. With no endpoint `datacenter` list, the volume's data center is not checked against
// the CPU data centers, so no worker could ever mount this volume.
use endpoint_sdk::prelude::*;

#[endpoint(
    cpu = "cpu3c-1-2",
    volume(name = "cache", size = 50, datacenter = US_KS_2),
    execution_timeout_ms = 10_000
)]
async fn embed(text: String) -> String {
    text
}

fn main() {}
