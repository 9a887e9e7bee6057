// CPU flavors (string and identifier), data centers (single, list, strings), network volumes
// (one inherited data center; the same volume name repeated in two data centers), `env`,
// `secrets` and `flashboot`.
#![deny(deprecated)]

use endpoint_sdk::config::{EnvVar, Hardware, NetworkVolume};
use endpoint_sdk::prelude::*;

#[endpoint(
    cpu = CPU5C_4_8,
    datacenter = EU_RO_1,
    volume(name = "cache", size = 50),
    env(HF_HOME = "/runpod-volume/hf", LOG_LEVEL = "debug"),
    secrets = [HF_TOKEN, "OPENAI_API_KEY"],
    flashboot = false,
    execution_timeout_ms = 30_000
)]
async fn embed(text: String) -> Vec<f32> {
    vec![text.len() as f32]
}

#[endpoint(cpu = "cpu3g-2-8", datacenter = "EU-RO-1", execution_timeout_ms = 5_000)]
async fn tiny() -> u32 {
    7
}

#[endpoint(
    gpu = AMPERE_48,
    datacenter = [US_KS_2, "EU-RO-1", EU_CZ_1],
    volume(name = "weights", size = 200, datacenter = US_KS_2),
    volume(name = "weights", size_gb = 200, datacenter = "EU-RO-1"),
    flashboot = true,
    execution_timeout_ms = 600_000
)]
async fn generate(prompt: String) -> String {
    prompt
}

fn main() {
    let c = <embed as Endpoint>::CONFIG;
    assert_eq!(
        c.hardware,
        Hardware::Cpu {
            flavor: "cpu5c-4-8".into()
        }
    );
    assert_eq!(c.datacenters.as_ref(), ["EU-RO-1"]);
    assert_eq!(
        c.volumes.as_ref(),
        [NetworkVolume {
            name: "cache".into(),
            size_gb: 50,
            datacenter: "EU-RO-1".into()
        }]
    );
    assert_eq!(
        c.env.as_ref(),
        [
            EnvVar {
                key: "HF_HOME".into(),
                value: "/runpod-volume/hf".into()
            },
            EnvVar {
                key: "LOG_LEVEL".into(),
                value: "debug".into()
            },
        ]
    );
    assert_eq!(c.secrets.as_ref(), ["HF_TOKEN", "OPENAI_API_KEY"]);
    assert!(!c.flashboot);

    let c = <tiny as Endpoint>::CONFIG;
    assert_eq!(
        c.hardware,
        Hardware::Cpu {
            flavor: "cpu3g-2-8".into()
        }
    );
    assert_eq!(c.datacenters.as_ref(), ["EU-RO-1"]);
    assert_eq!(c.execution_timeout_ms, Some(5_000));

    let c = <generate as Endpoint>::CONFIG;
    assert_eq!(c.datacenters.as_ref(), ["US-KS-2", "EU-RO-1", "EU-CZ-1"]);
    let placed: Vec<(&str, u32, &str)> = c
        .volumes
        .iter()
        .map(|v| (v.name.as_ref(), v.size_gb, v.datacenter.as_ref()))
        .collect();
    assert_eq!(
        placed,
        [("weights", 200, "US-KS-2"), ("weights", 200, "EU-RO-1")]
    );
    assert!(c.flashboot);
}
