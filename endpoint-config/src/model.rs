//! The configuration of one endpoint, as the `#[endpoint]` attribute resolves it: every setting
//! explicit, defaults applied, names canonical (Runpod ids, not the spellings the user wrote).
//!
//! The types use [`Cow<'static, _>`](std::borrow::Cow) so that the attribute can emit a config as
//! a `const` (borrowed literals) while the runtime and tests can still build or deserialize one.

use std::borrow::Cow;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::catalog::{self, GpuType};

/// Text that is a literal in generated code and owned when built at run time.
pub type Text = Cow<'static, str>;
/// A list that is a literal in generated code and owned when built at run time.
pub type List<T> = Cow<'static, [T]>;

/// Defaults that apply when the attribute leaves a setting out. They follow Runpod Flash (and so
/// the platform's SDK users' expectations), except that an execution timeout has no default: every
/// endpoint must state its ceiling.
pub mod defaults {
    /// `workers` when unset: scale to zero, at most one worker.
    pub const WORKERS: (u32, u32) = (0, 1);
    /// `idle_timeout` in seconds.
    pub const IDLE_TIMEOUT_S: u32 = 60;
    /// `concurrency`: jobs one worker runs at once.
    pub const CONCURRENCY: u32 = 1;
    /// `scaler` value (seconds of queue delay).
    pub const SCALER_VALUE: u32 = 4;
    /// `gpu_count`.
    pub const GPU_COUNT: u32 = 1;
    /// Network volume size in GB.
    pub const VOLUME_SIZE_GB: u32 = 100;
    /// `flashboot`.
    pub const FLASHBOOT: bool = true;
    /// A load-balancing endpoint's `scaler`: `request_count(4)`, requests in flight per worker
    /// (runpod SDK 2.0's default).
    pub const LB_REQUESTS_PER_WORKER: u32 = 4;
    /// A load-balancing worker's `port` (the platform's default, `PORT=80`).
    pub const LB_PORT: u16 = 80;
    /// Where the platform checks a load-balancing worker's health (`HEALTH_CHECK_PATH`).
    pub const LB_HEALTH_PATH: &str = "/ping";
}

/// Limits the platform enforces, checked by the attribute.
pub mod limits {
    /// `idle_timeout`, seconds.
    pub const IDLE_TIMEOUT_S: std::ops::RangeInclusive<i128> = 1..=3600;
    /// `execution_timeout_ms`: 5 seconds to 7 days.
    pub const EXECUTION_TIMEOUT_MS: std::ops::RangeInclusive<i128> = 5_000..=604_800_000;
    /// `gpu_count`.
    pub const GPU_COUNT: std::ops::RangeInclusive<i128> = 1..=8;
    /// Network volume size, GB.
    pub const VOLUME_SIZE_GB: std::ops::RangeInclusive<i128> = 10..=4096;
    /// GPU priorities an endpoint may list.
    pub const GPU_PRIORITIES: usize = 3;
    /// Max workers from which the platform spreads workers over a GPU priority list.
    pub const FALLBACK_MIN_WORKERS: u32 = 5;
    /// Concurrency above which the attribute warns.
    pub const HIGH_CONCURRENCY: u32 = 100;
    /// Longest endpoint name.
    pub const NAME_LEN: usize = 64;
    /// The longest the platform lets one request to a load-balancing endpoint run: 5.5 minutes,
    /// then it answers `524`.
    pub const LB_REQUEST_MS: u64 = 330_000;
    /// Ports a load-balancing worker may listen on.
    pub const PORT: std::ops::RangeInclusive<i128> = 1..=65_535;
}

/// The full configuration of one endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointConfig {
    /// The endpoint's name on the platform and in URLs (`/v2/{name}/run` locally).
    pub name: Text,
    /// How the platform hands the endpoint its work: jobs through a queue, or HTTP requests
    /// proxied straight to a worker's server.
    pub kind: EndpointKind,
    /// What a worker runs on.
    pub hardware: Hardware,
    /// Worker bounds.
    pub workers: Workers,
    /// Seconds an idle worker above the minimum stays up.
    pub idle_timeout_s: u32,
    /// The ceiling on one job's execution, in ms. `None` only with `allow(no_execution_timeout)`.
    pub execution_timeout_ms: Option<u64>,
    /// Jobs one worker runs at once.
    pub concurrency: u32,
    /// When the platform adds workers.
    pub scaler: Scaler,
    /// Data centers the endpoint may run in (Runpod ids); empty means any.
    pub datacenters: List<Text>,
    /// Network volumes, at most one per data center.
    pub volumes: List<NetworkVolume>,
    /// Environment variables set on every worker.
    pub env: List<EnvVar>,
    /// Names of environment variables copied from the deployer's environment at deploy time.
    /// Their values are never written into a manifest.
    pub secrets: List<Text>,
    /// Whether FlashBoot (faster cold starts from a snapshot) is on.
    pub flashboot: bool,
    /// The least GPU memory a worker needs, in GB per worker (all of its GPUs together).
    pub min_vram_gb: Option<u32>,
    /// What a worker holds in GPU memory (`model(..)`): the model's shape, precisions, context
    /// and sessions, from which `min_vram_gb` and `concurrency` follow.
    pub model: Option<crate::budget::ModelSpec>,
    /// Whether users wait on this endpoint synchronously (it then keeps warm workers).
    pub interactive: bool,
    /// Whether the endpoint's workers are written without this SDK (a Python `runpod` handler,
    /// say): calls then send its input as it is, without the envelope that carries the caller's
    /// session, deadline and trace context, which such a worker would take for its input.
    pub plain_input: bool,
    /// Names of the endpoints this one calls.
    pub calls: List<Text>,
    /// Whether a per-worker initialiser runs before the first job.
    pub has_init: bool,
    /// The most calls one job may make to other endpoints (each fan-out item counts): the
    /// runaway guard of agent loops. `None`: no limit.
    pub max_steps: Option<u32>,
    /// Rules opted out of with `allow(..)`.
    pub allow: List<Text>,
}

/// How the platform hands an endpoint its work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EndpointKind {
    /// A queue endpoint: jobs (`/run`, `/runsync`, `/status`, `/stream`) that workers take.
    Queue,
    /// A load-balancing endpoint: the platform proxies each HTTP request to a healthy worker's
    /// own server (`#[endpoint]` on a function that builds an axum `Router`).
    LoadBalancer(LoadBalancer),
}

/// Where a load-balancing worker listens, and where the platform checks its health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadBalancer {
    /// The app's port (`PORT`).
    pub port: u16,
    /// The health check's port (`PORT_HEALTH`); the app's port when they are the same.
    pub health_port: u16,
    /// The health check's path (`HEALTH_CHECK_PATH`), answered by the SDK: 204 while `init`
    /// runs, 200 once the worker is ready.
    pub health_path: Text,
}

impl Default for LoadBalancer {
    fn default() -> Self {
        LoadBalancer {
            port: defaults::LB_PORT,
            health_port: defaults::LB_PORT,
            health_path: Cow::Borrowed(defaults::LB_HEALTH_PATH),
        }
    }
}

/// What a worker runs on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Hardware {
    /// GPU workers.
    Gpu {
        /// GPU types and pools in priority order.
        selection: List<GpuChoice>,
        /// GPUs per worker.
        count: u32,
        /// The oldest CUDA version a host may have.
        min_cuda_version: Text,
    },
    /// CPU workers.
    Cpu {
        /// The CPU flavor id, e.g. `cpu5c-4-8`.
        flavor: Text,
    },
}

/// One entry of a GPU selection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum GpuChoice {
    /// Every pool.
    Any,
    /// A pool id, e.g. `AMPERE_80`.
    Pool(Text),
    /// A Runpod GPU id, e.g. `NVIDIA A100 80GB PCIe`.
    Type(Text),
}

/// Worker bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workers {
    /// Workers kept running even when idle (active workers).
    pub min: u32,
    /// The most workers the endpoint scales to.
    pub max: u32,
}

/// When the platform adds workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Scaler {
    /// Add a worker when the oldest job has waited longer than this many seconds.
    QueueDelay(u32),
    /// Keep `ceil((queued + in progress) / value)` workers.
    RequestCount(u32),
}

impl Scaler {
    /// The platform's `scalerType`.
    pub fn kind(&self) -> &'static str {
        match self {
            Scaler::QueueDelay(_) => "QUEUE_DELAY",
            Scaler::RequestCount(_) => "REQUEST_COUNT",
        }
    }

    /// The platform's `scalerValue`.
    pub fn value(&self) -> u32 {
        match self {
            Scaler::QueueDelay(v) | Scaler::RequestCount(v) => *v,
        }
    }
}

/// A network volume mounted at `/runpod-volume` on every worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkVolume {
    /// The volume's name (found or created by name at deploy time).
    pub name: Text,
    /// Size in GB.
    pub size_gb: u32,
    /// The data center (Runpod id) the volume lives in.
    pub datacenter: Text,
}

/// One environment variable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvVar {
    /// Variable name.
    pub key: Text,
    /// Its value.
    pub value: Text,
}

impl EndpointConfig {
    /// A config with every default, for building configs in code (tests, tools). Endpoints
    /// written with `#[endpoint]` get theirs from the attribute. The execution timeout is 600 s,
    /// the platform console's default.
    pub fn new(name: impl Into<Text>) -> Self {
        EndpointConfig {
            name: name.into(),
            kind: EndpointKind::Queue,
            hardware: Hardware::Cpu {
                flavor: Cow::Borrowed("cpu3g-2-8"),
            },
            workers: Workers {
                min: defaults::WORKERS.0,
                max: defaults::WORKERS.1,
            },
            idle_timeout_s: defaults::IDLE_TIMEOUT_S,
            execution_timeout_ms: Some(600_000),
            concurrency: defaults::CONCURRENCY,
            scaler: Scaler::QueueDelay(defaults::SCALER_VALUE),
            datacenters: Cow::Borrowed(&[]),
            volumes: Cow::Borrowed(&[]),
            env: Cow::Borrowed(&[]),
            secrets: Cow::Borrowed(&[]),
            flashboot: defaults::FLASHBOOT,
            min_vram_gb: None,
            model: None,
            interactive: false,
            plain_input: false,
            calls: Cow::Borrowed(&[]),
            has_init: false,
            max_steps: None,
            allow: Cow::Borrowed(&[]),
        }
    }

    /// The execution ceiling as a duration, if there is one.
    pub fn execution_timeout(&self) -> Option<Duration> {
        self.execution_timeout_ms.map(Duration::from_millis)
    }

    /// The idle timeout as a duration.
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(u64::from(self.idle_timeout_s))
    }

    /// Whether this is a CPU endpoint.
    pub fn is_cpu(&self) -> bool {
        matches!(self.hardware, Hardware::Cpu { .. })
    }

    /// The load-balancing settings, for a load-balancing endpoint.
    pub fn load_balancer(&self) -> Option<&LoadBalancer> {
        match &self.kind {
            EndpointKind::LoadBalancer(lb) => Some(lb),
            EndpointKind::Queue => None,
        }
    }

    /// Whether a rule is opted out of with `allow(..)`.
    pub fn allows(&self, lint: crate::Lint) -> bool {
        self.allow.iter().any(|a| a == lint.name())
    }

    /// Every GPU type a worker of this endpoint may land on, in priority order, without
    /// duplicates. With `ANY` and a `min_vram_gb` floor, only the types that meet the floor.
    /// Empty for CPU endpoints.
    pub fn gpu_types(&self) -> Vec<&'static GpuType> {
        let Hardware::Gpu {
            selection, count, ..
        } = &self.hardware
        else {
            return Vec::new();
        };
        let mut out: Vec<&'static GpuType> = Vec::new();
        for choice in selection.iter() {
            let types: Vec<&'static GpuType> = match choice {
                GpuChoice::Any => catalog::GPU_TYPES
                    .iter()
                    .filter(|t| self.min_vram_gb.is_none_or(|f| t.vram_gb * count >= f))
                    .collect(),
                GpuChoice::Pool(id) => catalog::gpu_pool(id)
                    .map(|p| p.types().collect())
                    .unwrap_or_default(),
                GpuChoice::Type(id) => catalog::gpu_type(id).into_iter().collect(),
            };
            for t in types {
                if !out.contains(&t) {
                    out.push(t);
                }
            }
        }
        out
    }

    /// The GPU pools a worker may land in, in priority order, without duplicates (what the
    /// management API's `gpu.pools` takes). Empty for CPU endpoints.
    pub fn gpu_pools(&self) -> Vec<&'static str> {
        let mut pools: Vec<&'static str> = Vec::new();
        for t in self.gpu_types() {
            if !pools.contains(&t.pool) {
                pools.push(t.pool);
            }
        }
        pools
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gpu(selection: Vec<GpuChoice>, count: u32, floor: Option<u32>) -> EndpointConfig {
        EndpointConfig {
            hardware: Hardware::Gpu {
                selection: selection.into(),
                count,
                min_cuda_version: "12.8".into(),
            },
            min_vram_gb: floor,
            ..EndpointConfig::new("e")
        }
    }

    #[test]
    fn gpu_types_follow_priority_and_floor() {
        let c = gpu(
            vec![
                GpuChoice::Type("NVIDIA A100 80GB PCIe".into()),
                GpuChoice::Pool("AMPERE_80".into()),
            ],
            1,
            None,
        );
        let ids: Vec<_> = c.gpu_types().iter().map(|t| t.id).collect();
        assert_eq!(ids, ["NVIDIA A100 80GB PCIe", "NVIDIA A100-SXM4-80GB"]);
        assert_eq!(c.gpu_pools(), ["AMPERE_80"]);

        let any = gpu(vec![GpuChoice::Any], 2, Some(100));
        assert!(any.gpu_types().iter().all(|t| t.vram_gb * 2 >= 100));
        assert!(any.gpu_pools().contains(&"AMPERE_80"));
        assert!(!any.gpu_pools().contains(&"ADA_24"));
    }

    #[test]
    fn config_round_trips_through_json() {
        let c = gpu(vec![GpuChoice::Pool("ADA_24".into())], 1, Some(20));
        let json = serde_json::to_string(&c).unwrap();
        let back: EndpointConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
        assert!(
            json.contains(r#""selection":[{"kind":"pool","id":"ADA_24"}]"#),
            "{json}"
        );
        assert!(EndpointConfig::new("x").is_cpu());
    }
}
