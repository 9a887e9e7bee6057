// Every way to select GPUs: a type identifier, a pool (also as a path), a priority list, `ANY`
// with a VRAM floor, and a Runpod GPU id string; plus `gpu_count` and the three spellings of
// `min_cuda_version`. No warning is expected.
#![deny(deprecated)]

use endpoint_sdk::config::{GpuChoice, Hardware};
use endpoint_sdk::prelude::*;

#[endpoint(gpu = NVIDIA_GEFORCE_RTX_4090, execution_timeout_ms = 60_000)]
async fn by_type(prompt: String) -> String {
    prompt
}

#[endpoint(
    gpu = GpuGroup::AMPERE_80,
    gpu_count = 2,
    min_cuda_version = "12.4",
    execution_timeout_ms = 120_000
)]
async fn by_pool(prompt: String) -> String {
    prompt
}

#[endpoint(
    gpu = [NVIDIA_A100_80GB_PCIe, AMPERE_80, ADA_80_PRO],
    min_vram_gb = 70,
    min_cuda_version = 12.4,
    workers = (0, 5),
    execution_timeout_ms = 120_000
)]
async fn by_priority(prompt: String) -> String {
    prompt
}

#[endpoint(gpu = ANY, min_vram_gb = 40, min_cuda_version = V12_4, execution_timeout_ms = 60_000)]
async fn anywhere_big_enough(prompt: String) -> String {
    prompt
}

#[endpoint(gpu = "NVIDIA L4", execution_timeout_ms = 60_000)]
async fn by_id(prompt: String) -> String {
    prompt
}

fn gpu(c: &endpoint_sdk::config::EndpointConfig) -> (Vec<GpuChoice>, u32, String) {
    match &c.hardware {
        Hardware::Gpu {
            selection,
            count,
            min_cuda_version,
        } => (selection.to_vec(), *count, min_cuda_version.to_string()),
        other => panic!("not a GPU endpoint: {other:?}"),
    }
}

fn main() {
    let (sel, count, cuda) = gpu(<by_type as Endpoint>::CONFIG);
    assert_eq!(sel, [GpuChoice::Type("NVIDIA GeForce RTX 4090".into())]);
    assert_eq!((count, cuda.as_str()), (1, "12.8"));
    assert_eq!(<by_type as Endpoint>::CONFIG.min_vram_gb, None);

    let (sel, count, cuda) = gpu(<by_pool as Endpoint>::CONFIG);
    assert_eq!(sel, [GpuChoice::Pool("AMPERE_80".into())]);
    assert_eq!((count, cuda.as_str()), (2, "12.4"));

    let c = <by_priority as Endpoint>::CONFIG;
    let (sel, _, cuda) = gpu(c);
    assert_eq!(
        sel,
        [
            GpuChoice::Type("NVIDIA A100 80GB PCIe".into()),
            GpuChoice::Pool("AMPERE_80".into()),
            GpuChoice::Pool("ADA_80_PRO".into()),
        ]
    );
    assert_eq!(cuda, "12.4");
    assert_eq!(c.min_vram_gb, Some(70));
    assert_eq!(c.gpu_pools(), ["AMPERE_80", "ADA_80_PRO"]);

    let c = <anywhere_big_enough as Endpoint>::CONFIG;
    let (sel, _, cuda) = gpu(c);
    assert_eq!(sel, [GpuChoice::Any]);
    assert_eq!(cuda, "12.4");
    assert_eq!(c.min_vram_gb, Some(40));
    assert!(c.gpu_types().iter().all(|t| t.vram_gb >= 40));
    assert!(!c.gpu_pools().contains(&"ADA_24"));

    let (sel, _, _) = gpu(<by_id as Endpoint>::CONFIG);
    assert_eq!(sel, [GpuChoice::Type("NVIDIA L4".into())]);
}
