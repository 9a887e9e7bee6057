//! The management API's mirror types: endpoints and network volumes as the account has them
//! (`Remote*`), and the bodies of the requests that create and change them, in REST v2's shapes
//! (`gpu.pools`, `cpu: [{id, vcpuCount}]`, `scaling` with a `type` discriminator).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `type` of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EndpointType {
    /// Queue-based: `/run`, `/runsync`, workers take jobs.
    Queue,
    /// Load balancer: HTTP straight to workers.
    LoadBalancer,
}

/// `scaling`: when the platform adds workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Scaling {
    /// Add a worker when a job has waited this many seconds.
    QueueDelay {
        /// Seconds (the API takes ≥ 0.5; the attribute whole seconds ≥ 1).
        #[serde(rename = "queueDelay")]
        queue_delay: u32,
    },
    /// Keep `ceil(jobs / requestCount)` workers.
    RequestCount {
        /// Jobs per worker (≥ 1).
        #[serde(rename = "requestCount")]
        request_count: u32,
    },
}

/// `flashboot`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Flashboot {
    /// No FlashBoot.
    Off,
    /// FlashBoot on.
    Flashboot,
    /// FlashBoot with priority capacity.
    PriorityFlashboot,
}

/// `gpu`: the GPU selection of an endpoint (request and response).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GpuConfig {
    /// Pool ids (`AMPERE_80`); workers go to whichever listed pool has capacity.
    pub pools: Vec<String>,
    /// GPU type ids subtracted from the pools (how one type of a pool is pinned).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excluded_types: Vec<String>,
    /// GPUs per worker.
    #[serde(default = "one")]
    pub count: u32,
    /// Exact CUDA versions allowed; `[]` clears the constraint. Never set together with a
    /// non-empty [`min_cuda_version`](Self::min_cuda_version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_cuda_versions: Option<Vec<String>>,
    /// The oldest CUDA version a host may have (`"12.8"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_cuda_version: Option<String>,
}

fn one() -> u32 {
    1
}

/// One entry of `cpu`: a flavor family and a vCPU count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CpuConfig {
    /// The flavor family, e.g. `cpu5c`.
    pub id: String,
    /// vCPUs per worker (a power of two, at least 2).
    pub vcpu_count: u32,
}

/// `workers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkersConfig {
    /// Always-on workers.
    pub min: u32,
    /// Most workers.
    pub max: u32,
    /// Seconds an idle worker stays up. Absent with the `REQUEST_COUNT` scaler on a queue
    /// endpoint (the API rejects it there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<u32>,
}

/// `POST /v2/serverless`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateEndpointRequest {
    /// The endpoint's name.
    pub name: String,
    /// Queue or load balancer.
    #[serde(rename = "type")]
    pub kind: EndpointType,
    /// The container image.
    pub image: String,
    /// Environment variables of every worker.
    pub env: BTreeMap<String, String>,
    /// Exposed ports (`["80/http"]`): a load-balancing worker's app and health ports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ports: Option<Vec<String>>,
    /// GPU selection (GPU endpoints).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu: Option<GpuConfig>,
    /// CPU selection (CPU endpoints).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<Vec<CpuConfig>>,
    /// Worker bounds and idle timeout.
    pub workers: WorkersConfig,
    /// The scaler.
    pub scaling: Scaling,
    /// Data centers; empty lets the scheduler choose.
    pub data_center_ids: Vec<String>,
    /// Network volume ids.
    pub network_volumes: Vec<String>,
    /// Execution timeout of one job, in ms.
    pub timeout: u64,
    /// FlashBoot.
    pub flashboot: Flashboot,
}

/// `PATCH /v2/serverless/{id}`: only the fields present change (`env` replaces the whole map;
/// `gpu.pools` without `excludedTypes` clears the exclusions).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateEndpointRequest {
    /// The container image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Every environment variable (replaces the current map).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env: Option<BTreeMap<String, String>>,
    /// Exposed ports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ports: Option<Vec<String>>,
    /// GPU selection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu: Option<GpuConfig>,
    /// CPU selection (replaces the current one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<Vec<CpuConfig>>,
    /// Worker bounds and idle timeout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workers: Option<WorkersConfig>,
    /// The scaler.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scaling: Option<Scaling>,
    /// Data centers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_center_ids: Option<Vec<String>>,
    /// Network volume ids.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_volumes: Option<Vec<String>>,
    /// Execution timeout, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
    /// FlashBoot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flashboot: Option<Flashboot>,
}

/// An endpoint as the API returns it. Lenient: fields this SDK does not manage are ignored, and
/// fields an older API version leaves out are `None`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteEndpoint {
    /// The platform id (what `/v2/{id}/run` takes).
    pub id: String,
    /// The name.
    pub name: String,
    /// `QUEUE` or `LOAD_BALANCER`.
    #[serde(rename = "type", default)]
    pub kind: Option<EndpointType>,
    /// The image.
    #[serde(default)]
    pub image: Option<String>,
    /// Environment variables.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Exposed ports.
    #[serde(default)]
    pub ports: Vec<String>,
    /// GPU selection (GPU endpoints).
    #[serde(default)]
    pub gpu: Option<GpuConfig>,
    /// CPU selection (CPU endpoints).
    #[serde(default)]
    pub cpu: Option<Vec<CpuConfig>>,
    /// Worker bounds.
    #[serde(default)]
    pub workers: Option<WorkersConfig>,
    /// The scaler, kept as JSON: older API versions used another shape.
    #[serde(default)]
    pub scaling: Option<Value>,
    /// Data centers.
    #[serde(default)]
    pub data_center_ids: Vec<String>,
    /// Network volume ids.
    #[serde(default)]
    pub network_volumes: Vec<String>,
    /// Execution timeout, ms.
    #[serde(default)]
    pub timeout: Option<u64>,
    /// FlashBoot.
    #[serde(default)]
    pub flashboot: Option<Flashboot>,
}

impl RemoteEndpoint {
    /// Whether the endpoint runs on GPUs (it has a GPU selection and no CPU one).
    pub fn is_gpu(&self) -> bool {
        self.gpu.is_some() && self.cpu.as_ref().is_none_or(Vec::is_empty)
    }
}

/// `POST /v2/network-volumes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateVolumeRequest {
    /// The volume's name.
    pub name: String,
    /// Size in GB (10..=4096).
    pub size: u32,
    /// The data center it lives in.
    pub data_center: String,
}

/// `PATCH /v2/network-volumes/{id}` (size can only grow).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpdateVolumeRequest {
    /// The new size in GB.
    pub size: u32,
}

/// A network volume as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteVolume {
    /// The platform id (what an endpoint's `networkVolumes` takes).
    pub id: String,
    /// The name (not unique on the platform).
    pub name: String,
    /// Size in GB.
    pub size: u32,
    /// The data center.
    pub data_center: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_use_the_v2_field_names() {
        let body = CreateEndpointRequest {
            name: "e".into(),
            kind: EndpointType::Queue,
            image: "i:1".into(),
            env: BTreeMap::new(),
            ports: None,
            gpu: None,
            cpu: Some(vec![CpuConfig {
                id: "cpu5c".into(),
                vcpu_count: 4,
            }]),
            workers: WorkersConfig {
                min: 0,
                max: 2,
                idle_timeout: None,
            },
            scaling: Scaling::RequestCount { request_count: 3 },
            data_center_ids: vec![],
            network_volumes: vec![],
            timeout: 5000,
            flashboot: Flashboot::Off,
        };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({"name":"e","type":"QUEUE","image":"i:1","env":{},
                "cpu":[{"id":"cpu5c","vcpuCount":4}],"workers":{"min":0,"max":2},
                "scaling":{"type":"REQUEST_COUNT","requestCount":3},"dataCenterIds":[],
                "networkVolumes":[],"timeout":5000,"flashboot":"OFF"})
        );
        assert_eq!(
            serde_json::to_value(UpdateEndpointRequest {
                timeout: Some(1),
                ..Default::default()
            })
            .unwrap(),
            serde_json::json!({"timeout": 1})
        );
    }
}
