//! The catalog's rows. This file is data: every other part of the workspace reads it through
//! [`crate::catalog`].
//!
//! # How to update it
//!
//! 1. **A new GPU type** joins an existing pool: add a [`GpuType`] row to [`GPU_TYPES`] with the
//!    Runpod GPU id exactly as the API's `gpuTypes { id }` query returns it, the identifier users
//!    write in `gpu = ...` (upper-case words joined by `_`, as Runpod Flash's `GpuType` names it),
//!    the card's memory in GB (`memoryInGb`), and its pool id. Then add the id to that pool's
//!    `members` in [`GPU_POOLS`]. The unit tests check that both lists agree.
//! 2. **A new pool**: add a [`GpuPool`] row (id as the API's `gpuIds`/`pools` field spells it,
//!    nominal VRAM, members) and a [`Price`] row for it in [`PRICES`].
//! 3. **A data center**: add a [`DataCenter`] row; set `cpu` when Runpod offers CPU serverless
//!    workers there (Flash's `CPU_DATACENTERS`).
//! 4. **A CPU flavor**: add a [`CpuFlavor`] row (`cpu{generation}{class}-{vcpu}-{ram}`) with its
//!    container disk limit (10 GB per vCPU for 3g/3c, 15 GB per vCPU for 5c).
//! 5. **A CUDA version**: append it to [`CUDA_VERSIONS`] in ascending order.
//! 6. **Prices** change often: update [`PRICES`] and [`PRICES_AS_OF`] together from
//!    <https://www.runpod.io/pricing> (Serverless, per second, "active" = always-on workers).
//!
//! Then run `cargo test -p endpoint-config` (consistency checks) and
//! `TRYBUILD=overwrite cargo test -p endpoint-tests --test ui` if an error message that lists the
//! choices changed, and review the new `.stderr` snapshots.
//!
//! Sources: Runpod Flash 1.19 (`core/resources/gpu.py`, `cpu.py`, `datacenter.py`), the GraphQL
//! `gpuTypes` query and docs.runpod.io, as summarised in `shared/reference/flash-inventory.md`.

use super::{CpuFlavor, DataCenter, GpuPool, GpuType, Price};

/// Every GPU type an endpoint can select, in the order the API lists them by memory.
pub const GPU_TYPES: &[GpuType] = &[
    GpuType::new("NVIDIA RTX A4000", "NVIDIA_RTX_A4000", 16, "AMPERE_16"),
    GpuType::new("NVIDIA RTX A4500", "NVIDIA_RTX_A4500", 20, "AMPERE_16"),
    GpuType::new(
        "NVIDIA RTX 4000 Ada Generation",
        "NVIDIA_RTX_4000_ADA_GENERATION",
        20,
        "AMPERE_16",
    ),
    GpuType::new(
        "NVIDIA RTX 2000 Ada Generation",
        "NVIDIA_RTX_2000_ADA_GENERATION",
        16,
        "AMPERE_16",
    ),
    GpuType::new("NVIDIA RTX A5000", "NVIDIA_RTX_A5000", 24, "AMPERE_24"),
    GpuType::new("NVIDIA L4", "NVIDIA_L4", 24, "AMPERE_24"),
    GpuType::new(
        "NVIDIA GeForce RTX 3090",
        "NVIDIA_GEFORCE_RTX_3090",
        24,
        "AMPERE_24",
    ),
    GpuType::new(
        "NVIDIA GeForce RTX 4090",
        "NVIDIA_GEFORCE_RTX_4090",
        24,
        "ADA_24",
    ),
    GpuType::new(
        "NVIDIA GeForce RTX 5090",
        "NVIDIA_GEFORCE_RTX_5090",
        32,
        "ADA_32_PRO",
    ),
    GpuType::new("NVIDIA A40", "NVIDIA_A40", 48, "AMPERE_48"),
    GpuType::new("NVIDIA RTX A6000", "NVIDIA_RTX_A6000", 48, "AMPERE_48"),
    GpuType::new(
        "NVIDIA RTX 6000 Ada Generation",
        "NVIDIA_RTX_6000_ADA_GENERATION",
        48,
        "ADA_48_PRO",
    ),
    GpuType::new(
        "NVIDIA A100 80GB PCIe",
        "NVIDIA_A100_80GB_PCIe",
        80,
        "AMPERE_80",
    ),
    GpuType::new(
        "NVIDIA A100-SXM4-80GB",
        "NVIDIA_A100_SXM4_80GB",
        80,
        "AMPERE_80",
    ),
    GpuType::new(
        "NVIDIA H100 80GB HBM3",
        "NVIDIA_H100_80GB_HBM3",
        80,
        "ADA_80_PRO",
    ),
    GpuType::new(
        "NVIDIA RTX PRO 6000 Blackwell Server Edition",
        "NVIDIA_RTX_PRO_6000_BLACKWELL_SERVER_EDITION",
        96,
        "BLACKWELL_96",
    ),
    GpuType::new(
        "NVIDIA RTX PRO 6000 Blackwell Workstation Edition",
        "NVIDIA_RTX_PRO_6000_BLACKWELL_WORKSTATION_EDITION",
        96,
        "BLACKWELL_96",
    ),
    GpuType::new(
        "NVIDIA RTX PRO 6000 Blackwell Max-Q Workstation Edition",
        "NVIDIA_RTX_PRO_6000_BLACKWELL_MAX_Q_WORKSTATION_EDITION",
        96,
        "BLACKWELL_96",
    ),
    GpuType::new("NVIDIA H200", "NVIDIA_H200", 141, "HOPPER_141"),
    GpuType::new("NVIDIA B200", "NVIDIA_B200", 180, "BLACKWELL_180"),
];

/// Every GPU pool (Flash's `GpuGroup`). `ANY` is not a pool: it is every pool.
pub const GPU_POOLS: &[GpuPool] = &[
    GpuPool::new(
        "AMPERE_16",
        16,
        &[
            "NVIDIA RTX A4000",
            "NVIDIA RTX A4500",
            "NVIDIA RTX 4000 Ada Generation",
            "NVIDIA RTX 2000 Ada Generation",
        ],
    ),
    GpuPool::new(
        "AMPERE_24",
        24,
        &["NVIDIA RTX A5000", "NVIDIA L4", "NVIDIA GeForce RTX 3090"],
    ),
    GpuPool::new("ADA_24", 24, &["NVIDIA GeForce RTX 4090"]),
    GpuPool::new("ADA_32_PRO", 32, &["NVIDIA GeForce RTX 5090"]),
    GpuPool::new("AMPERE_48", 48, &["NVIDIA A40", "NVIDIA RTX A6000"]),
    GpuPool::new("ADA_48_PRO", 48, &["NVIDIA RTX 6000 Ada Generation"]),
    GpuPool::new(
        "AMPERE_80",
        80,
        &["NVIDIA A100 80GB PCIe", "NVIDIA A100-SXM4-80GB"],
    ),
    GpuPool::new("ADA_80_PRO", 80, &["NVIDIA H100 80GB HBM3"]),
    GpuPool::new(
        "BLACKWELL_96",
        96,
        &[
            "NVIDIA RTX PRO 6000 Blackwell Server Edition",
            "NVIDIA RTX PRO 6000 Blackwell Workstation Edition",
            "NVIDIA RTX PRO 6000 Blackwell Max-Q Workstation Edition",
        ],
    ),
    GpuPool::new("HOPPER_141", 141, &["NVIDIA H200"]),
    GpuPool::new("BLACKWELL_180", 180, &["NVIDIA B200"]),
];

/// CPU worker flavors (`cpu{generation}{class}-{vcpu}-{ram GB}`): `g` is general purpose
/// (RAM = 4 × vCPU), `c` compute-optimised (RAM = 2 × vCPU).
pub const CPU_FLAVORS: &[CpuFlavor] = &[
    CpuFlavor::new("cpu3g-1-4", 1, 4, 10),
    CpuFlavor::new("cpu3g-2-8", 2, 8, 20),
    CpuFlavor::new("cpu3g-4-16", 4, 16, 40),
    CpuFlavor::new("cpu3g-8-32", 8, 32, 80),
    CpuFlavor::new("cpu3c-1-2", 1, 2, 10),
    CpuFlavor::new("cpu3c-2-4", 2, 4, 20),
    CpuFlavor::new("cpu3c-4-8", 4, 8, 40),
    CpuFlavor::new("cpu3c-8-16", 8, 16, 80),
    CpuFlavor::new("cpu5c-1-2", 1, 2, 15),
    CpuFlavor::new("cpu5c-2-4", 2, 4, 30),
    CpuFlavor::new("cpu5c-4-8", 4, 8, 60),
    CpuFlavor::new("cpu5c-8-16", 8, 16, 120),
];

/// Data centers with network storage (Flash 1.19's `DataCenter`; US-GA-2, US-MD-1, US-NC-1 and
/// EUR-IS-1 were removed upstream because workers there had no primary storage mount).
pub const DATA_CENTERS: &[DataCenter] = &[
    DataCenter::new("US-CA-2", false),
    DataCenter::new("US-IL-1", false),
    DataCenter::new("US-KS-2", false),
    DataCenter::new("US-MO-1", false),
    DataCenter::new("US-MO-2", false),
    DataCenter::new("US-NC-2", false),
    DataCenter::new("US-NE-1", false),
    DataCenter::new("US-WA-1", false),
    DataCenter::new("EU-CZ-1", false),
    DataCenter::new("EU-RO-1", true),
    DataCenter::new("EUR-NO-1", false),
];

/// CUDA versions a GPU endpoint can require as its minimum, ascending.
pub const CUDA_VERSIONS: &[&str] = &[
    "11.8", "12.0", "12.1", "12.2", "12.3", "12.4", "12.5", "12.6", "12.7", "12.8", "12.9", "13.0",
];

/// The minimum CUDA version when an endpoint does not set one (Flash's default since #277).
pub const DEFAULT_MIN_CUDA_VERSION: &str = "12.8";

/// The date [`PRICES`] were last compiled. The sources (Runpod's docs pricing page and its table
/// snippet, as stored copies) carry no date of their own; prices are estimates, and the
/// platform's bill is authoritative.
pub const PRICES_AS_OF: &str = "2026-11-23";

/// Serverless prices in US dollars per second per worker: `flex` for workers that scale with
/// load, `active` for always-on workers (`workers.min`). GPU rows are per pool (one GPU; multiply
/// by `gpu_count`), CPU rows per vCPU.
///
/// Each row says where its figures come from: **published** (docs.runpod.io/serverless/pricing,
/// "Cost per second", flex and active columns), or **estimate** (no published figure; how it was
/// derived is stated). `GET /v2/catalog/gpus` (`price.serverless`, flex per GPU-hour) and
/// `GET /v2/catalog/cpus` (`price.serverlessPerVcpu`) are the live sources to check against.
pub const PRICES: &[Price] = &[
    // Published: 16 GB (A4000, A4500, RTX 4000).
    Price::new("AMPERE_16", 0.000_16, 0.000_11),
    // Published: 24 GB (L4, A5000, 3090).
    Price::new("AMPERE_24", 0.000_19, 0.000_13),
    // Published: 24 GB PRO (4090). Cross-checked: the API's example `serverless: 1.1` $/h.
    Price::new("ADA_24", 0.000_31, 0.000_21),
    // Estimate: no 32 GB PRO (RTX 5090) row is published; between 24 GB PRO and 48 GB.
    Price::new("ADA_32_PRO", 0.000_44, 0.000_31),
    // Published: 48 GB (A6000, A40).
    Price::new("AMPERE_48", 0.000_34, 0.000_24),
    // Published: 48 GB PRO (L40, L40S, 6000 Ada).
    Price::new("ADA_48_PRO", 0.000_53, 0.000_37),
    // Published: 80 GB (A100).
    Price::new("AMPERE_80", 0.000_76, 0.000_60),
    // Published: 80 GB PRO (H100).
    Price::new("ADA_80_PRO", 0.001_16, 0.000_93),
    // Flex published (96 GB, RTX PRO 6000; one version of the table only); active is an
    // estimate: flex × 0.8, the ratio of the published rows around it.
    Price::new("BLACKWELL_96", 0.001_11, 0.000_89),
    // Published: 141 GB (H200).
    Price::new("HOPPER_141", 0.001_55, 0.001_24),
    // Published: 180 GB (B200; absent from older versions of the page).
    Price::new("BLACKWELL_180", 0.002_40, 0.001_90),
    // Estimates: no per-second CPU prices are published. The API's catalog prices CPU per
    // vCPU-hour (its example: 0.03); these assume roughly $0.04–0.06 flex per vCPU-hour, active
    // about 25% less.
    Price::new("cpu3g", 0.000_014, 0.000_010),
    Price::new("cpu3c", 0.000_012, 0.000_009),
    Price::new("cpu5c", 0.000_016, 0.000_012),
];
