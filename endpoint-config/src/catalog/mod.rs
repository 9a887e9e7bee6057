//! What Runpod Serverless offers: GPU types and pools, CPU flavors, data centers, CUDA versions
//! and prices. One source of truth, read by the `#[endpoint]` attribute at compile time and by the
//! runtime and deployment at run time. The rows live in [`data`]; its module docs say how to
//! update them.

pub mod data;
pub mod models;
pub mod retired;

use serde::Serialize;

pub use data::{
    CPU_FLAVORS, CUDA_VERSIONS, DATA_CENTERS, DEFAULT_MIN_CUDA_VERSION, GPU_POOLS, GPU_TYPES,
    PRICES, PRICES_AS_OF,
};
pub use retired::{RETIRED, Retired, RetiredKind, retired};

/// One GPU model that Runpod rents out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GpuType {
    /// The Runpod GPU id, e.g. `"NVIDIA A100 80GB PCIe"` (what the API's `gpuTypeIds` takes).
    pub id: &'static str,
    /// The identifier written in `gpu = ...`, e.g. `NVIDIA_A100_80GB_PCIe`.
    pub ident: &'static str,
    /// Memory of one card, in GB.
    pub vram_gb: u32,
    /// The id of the pool the card belongs to, e.g. `"AMPERE_80"`.
    pub pool: &'static str,
}

impl GpuType {
    pub(crate) const fn new(
        id: &'static str,
        ident: &'static str,
        vram_gb: u32,
        pool: &'static str,
    ) -> Self {
        GpuType {
            id,
            ident,
            vram_gb,
            pool,
        }
    }
}

/// A GPU pool: Runpod schedules a pool's workers on any of its member types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GpuPool {
    /// The pool id, e.g. `"AMPERE_80"`; also the identifier written in `gpu = ...`.
    pub id: &'static str,
    /// The pool's nominal memory per card, in GB.
    pub vram_gb: u32,
    /// The Runpod ids of the GPU types in the pool.
    pub members: &'static [&'static str],
}

impl GpuPool {
    pub(crate) const fn new(
        id: &'static str,
        vram_gb: u32,
        members: &'static [&'static str],
    ) -> Self {
        GpuPool {
            id,
            vram_gb,
            members,
        }
    }

    /// The GPU types of this pool.
    pub fn types(&self) -> impl Iterator<Item = &'static GpuType> + '_ {
        self.members.iter().filter_map(|id| gpu_type(id))
    }

    /// The member with the least memory: the card a worker of this pool may land on in the worst
    /// case.
    pub fn smallest(&self) -> &'static GpuType {
        self.types()
            .min_by_key(|t| t.vram_gb)
            .expect("every pool has members (checked by the catalog's tests)")
    }
}

/// A CPU worker flavor, e.g. `cpu5c-4-8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CpuFlavor {
    /// The instance id, e.g. `"cpu5c-4-8"`.
    pub id: &'static str,
    /// Virtual CPUs.
    pub vcpu: u32,
    /// Memory in GB.
    pub ram_gb: u32,
    /// The largest container disk the flavor allows, in GB.
    pub max_disk_gb: u32,
}

impl CpuFlavor {
    pub(crate) const fn new(id: &'static str, vcpu: u32, ram_gb: u32, max_disk_gb: u32) -> Self {
        CpuFlavor {
            id,
            vcpu,
            ram_gb,
            max_disk_gb,
        }
    }

    /// The flavor family without its size, e.g. `"cpu5c"` (what the management API calls the
    /// CPU flavor id).
    pub fn family(&self) -> &'static str {
        self.id.split('-').next().unwrap_or(self.id)
    }
}

/// A Runpod data center.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DataCenter {
    /// The data center id, e.g. `"EU-RO-1"`.
    pub id: &'static str,
    /// Whether CPU serverless workers are offered there.
    pub cpu: bool,
}

impl DataCenter {
    pub(crate) const fn new(id: &'static str, cpu: bool) -> Self {
        DataCenter { id, cpu }
    }

    /// The identifier written in `datacenter = ...`, e.g. `EU_RO_1`.
    pub fn ident(&self) -> String {
        self.id.replace('-', "_")
    }
}

/// A price row: dollars per second for one GPU of a pool, or one vCPU of a CPU family.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Price {
    /// A GPU pool id or a CPU flavor family (`cpu5c`).
    pub key: &'static str,
    /// Per second, for workers that scale with load.
    pub flex_per_s: f64,
    /// Per second, for always-on (active) workers.
    pub active_per_s: f64,
}

impl Price {
    pub(crate) const fn new(key: &'static str, flex_per_s: f64, active_per_s: f64) -> Self {
        Price {
            key,
            flex_per_s,
            active_per_s,
        }
    }
}

/// The GPU type with this Runpod id (exact), e.g. `"NVIDIA L4"`.
pub fn gpu_type(id: &str) -> Option<&'static GpuType> {
    GPU_TYPES.iter().find(|t| t.id == id)
}

/// The GPU pool with this id (exact), e.g. `"ADA_24"`.
pub fn gpu_pool(id: &str) -> Option<&'static GpuPool> {
    GPU_POOLS.iter().find(|p| p.id == id)
}

/// The CPU flavor with this id (exact), e.g. `"cpu3c-2-4"`.
pub fn cpu_flavor(id: &str) -> Option<&'static CpuFlavor> {
    CPU_FLAVORS.iter().find(|f| f.id == id)
}

/// The data center with this id (exact), e.g. `"US-KS-2"`.
pub fn data_center(id: &str) -> Option<&'static DataCenter> {
    DATA_CENTERS.iter().find(|d| d.id == id)
}

/// The price row for a GPU pool id or a CPU family.
pub fn price(key: &str) -> Option<&'static Price> {
    PRICES.iter().find(|p| p.key == key)
}

/// Whether `version` is a CUDA version the platform accepts as a minimum.
pub fn is_cuda_version(version: &str) -> bool {
    CUDA_VERSIONS.contains(&version)
}

/// What a name written in `gpu = ...` refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GpuName {
    /// `ANY`: every pool.
    Any,
    /// A pool such as `AMPERE_80`.
    Pool(&'static GpuPool),
    /// A GPU type such as `NVIDIA_A100_80GB_PCIe` or `"NVIDIA A100 80GB PCIe"`.
    Type(&'static GpuType),
}

/// Resolves a GPU name as a user writes it: `ANY`, a pool id, a GPU type identifier, or a Runpod
/// GPU id string. Identifiers match regardless of case (Flash's `NVIDIA_A100_80GB_PCIe` is
/// mixed-case).
pub fn resolve_gpu(name: &str) -> Option<GpuName> {
    if name.eq_ignore_ascii_case("ANY") {
        return Some(GpuName::Any);
    }
    if let Some(pool) = GPU_POOLS.iter().find(|p| p.id.eq_ignore_ascii_case(name)) {
        return Some(GpuName::Pool(pool));
    }
    GPU_TYPES
        .iter()
        .find(|t| t.ident.eq_ignore_ascii_case(name) || t.id.eq_ignore_ascii_case(name))
        .map(GpuName::Type)
}

/// Resolves a CPU flavor as a user writes it: `"cpu5c-4-8"` or `CPU5C_4_8`.
pub fn resolve_cpu(name: &str) -> Option<&'static CpuFlavor> {
    let normal = name.to_ascii_lowercase().replace('_', "-");
    cpu_flavor(&normal)
}

/// Resolves a data center as a user writes it: `"EU-RO-1"`, `EU_RO_1` or `"eu-ro-1"`.
pub fn resolve_data_center(name: &str) -> Option<&'static DataCenter> {
    let normal = name.to_ascii_uppercase().replace('_', "-");
    data_center(&normal)
}

/// Resolves a CUDA version as a user writes it: `"12.8"`, `12.8` or `V12_8`.
pub fn resolve_cuda(name: &str) -> Option<&'static str> {
    let trimmed = name.trim_start_matches(['v', 'V']).replace('_', ".");
    CUDA_VERSIONS.iter().copied().find(|v| *v == trimmed)
}

/// Every name `gpu = ...` accepts, for "did you mean" suggestions and error messages.
pub fn gpu_names() -> impl Iterator<Item = &'static str> {
    std::iter::once("ANY")
        .chain(GPU_POOLS.iter().map(|p| p.id))
        .chain(GPU_TYPES.iter().map(|t| t.ident))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_gpu_type_is_in_exactly_its_pool() {
        for t in GPU_TYPES {
            let pool = gpu_pool(t.pool)
                .unwrap_or_else(|| panic!("{} names unknown pool {}", t.id, t.pool));
            assert!(
                pool.members.contains(&t.id),
                "{} missing from {}",
                t.id,
                pool.id
            );
            let others = GPU_POOLS
                .iter()
                .filter(|p| p.members.contains(&t.id))
                .count();
            assert_eq!(others, 1, "{} is in {others} pools", t.id);
        }
    }

    #[test]
    fn every_pool_member_is_a_known_type_and_pools_have_prices() {
        for p in GPU_POOLS {
            assert!(!p.members.is_empty(), "{} has no members", p.id);
            for m in p.members {
                let t = gpu_type(m).unwrap_or_else(|| panic!("{} lists unknown type {m}", p.id));
                assert_eq!(t.pool, p.id);
                assert!(
                    t.vram_gb >= p.vram_gb,
                    "{m} has less memory than {}'s nominal",
                    p.id
                );
            }
            assert!(price(p.id).is_some(), "no price for pool {}", p.id);
        }
        for f in CPU_FLAVORS {
            assert!(price(f.family()).is_some(), "no price for {}", f.family());
        }
    }

    #[test]
    fn ids_and_identifiers_are_unique() {
        let mut seen = HashSet::new();
        for name in gpu_names() {
            assert!(
                seen.insert(name.to_ascii_uppercase()),
                "duplicate GPU name {name}"
            );
        }
        let ids: HashSet<_> = GPU_TYPES.iter().map(|t| t.id).collect();
        assert_eq!(ids.len(), GPU_TYPES.len());
        let dcs: HashSet<_> = DATA_CENTERS.iter().map(|d| d.id).collect();
        assert_eq!(dcs.len(), DATA_CENTERS.len());
    }

    #[test]
    fn cpu_flavors_follow_the_naming_and_disk_rules() {
        for f in CPU_FLAVORS {
            let ratio = if f.id.starts_with("cpu3g") { 4 } else { 2 };
            assert_eq!(f.ram_gb, f.vcpu * ratio, "{}", f.id);
            assert_eq!(f.id, format!("{}-{}-{}", f.family(), f.vcpu, f.ram_gb));
            let per_vcpu = if f.family() == "cpu5c" { 15 } else { 10 };
            assert_eq!(f.max_disk_gb, f.vcpu * per_vcpu, "{}", f.id);
        }
    }

    #[test]
    fn cuda_versions_ascend_and_include_the_default() {
        let parsed: Vec<(u32, u32)> = CUDA_VERSIONS
            .iter()
            .map(|v| {
                let (a, b) = v.split_once('.').unwrap();
                (a.parse().unwrap(), b.parse().unwrap())
            })
            .collect();
        assert!(parsed.windows(2).all(|w| w[0] < w[1]));
        assert!(is_cuda_version(DEFAULT_MIN_CUDA_VERSION));
    }

    #[test]
    fn names_resolve_as_users_write_them() {
        assert_eq!(resolve_gpu("any"), Some(GpuName::Any));
        assert_eq!(
            resolve_gpu("AMPERE_80"),
            Some(GpuName::Pool(gpu_pool("AMPERE_80").unwrap()))
        );
        let a100 = gpu_type("NVIDIA A100 80GB PCIe").unwrap();
        assert_eq!(
            resolve_gpu("NVIDIA_A100_80GB_PCIe"),
            Some(GpuName::Type(a100))
        );
        assert_eq!(
            resolve_gpu("NVIDIA_A100_80GB_PCIE"),
            Some(GpuName::Type(a100))
        );
        assert_eq!(
            resolve_gpu("NVIDIA A100 80GB PCIe"),
            Some(GpuName::Type(a100))
        );
        assert_eq!(resolve_gpu("RTX4090"), None);
        assert_eq!(resolve_cpu("CPU5C_4_8").map(|f| f.id), Some("cpu5c-4-8"));
        assert_eq!(
            resolve_data_center("eu_ro_1").map(|d| d.id),
            Some("EU-RO-1")
        );
        assert_eq!(resolve_cuda("V12_8"), Some("12.8"));
        assert_eq!(resolve_cuda("12.8"), Some("12.8"));
        assert_eq!(resolve_cuda("12.10"), None);
        assert_eq!(gpu_pool("AMPERE_16").unwrap().smallest().vram_gb, 16);
    }
}
