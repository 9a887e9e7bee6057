// Data centers, volumes and environment together: every problem reported at once.
use endpoint_sdk::prelude::*;

#[endpoint(
    cpu = CPU5C_4_8,
    datacenter = [EU_RO_1, US_KS_2, EU_RO_3],
    volume(name = "weights", size = 5),
    volume(name = "", size = 100, datacenter = US_IL_1),
    env(RUNPOD_POD_ID = "x", HF_HOME = 3),
    secrets = ["HF-TOKEN"],
    execution_timeout_ms = 1_000
)]
async fn embed(text: String) -> Vec<f32> {
    let _ = text;
    Vec::new()
}

fn main() {}
