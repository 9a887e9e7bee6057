//! Deployment to Runpod Serverless: the [manifest] of the whole application, the
//! [Dockerfile](mod@dockerfile) of its single image, and the management API requests that make an
//! account match the manifest ([`deploy()`], [`undeploy()`]).
//!
//! # How a config reaches the platform
//!
//! `deploy` speaks Runpod's REST API v2 ([`management`], shapes in [`remote`]). Every endpoint is created with its container
//! settings inline (`image`, `env`) rather than through a template: in v2 a template is only a
//! one-time source of those same settings (no link is kept, later template edits do not reach the
//! endpoint), so a template would add a request and a resource to clean up for nothing.
//!
//! | config | request field |
//! |---|---|
//! | `name` | `name` (and `ENDPOINT_NAME` in `env`: which handler the single image serves) |
//! | the app | `env.ENDPOINT_APP`: marks the endpoints `undeploy` may delete |
//! | `gpu = ..` | `gpu.pools` (the pools of every type the selection allows) and `gpu.excludedTypes` (their other members: how one type is pinned, and how `ANY` honours `min_vram_gb`) |
//! | `gpu_count` | `gpu.count` |
//! | `min_cuda_version` | `gpu.minCudaVersion` |
//! | `cpu = "cpu5c-4-8"` | `cpu: [{"id": "cpu5c", "vcpuCount": 4}]` |
//! | `workers = (min, max)`, `idle_timeout` | `workers: {min, max, idleTimeout}` (no `idleTimeout` with `request_count`: the API rejects it) |
//! | `scaler` | `scaling: {"type": "QUEUE_DELAY", "queueDelay"}` / `{"type": "REQUEST_COUNT", "requestCount"}` |
//! | `datacenter` | `dataCenterIds` (without one, the volumes' data centers) |
//! | `volume(..)` | `networkVolumes` (ids; each volume found by name and data center, or created) |
//! | `env(..)` | `env` |
//! | `secrets = [..]` | `env`, values from the deployer's environment (never printed) |
//! | `calls = [..]` | `env.ENDPOINT_ID_<CALLEE>` for each callee, and `env.RUNPOD_API_KEY` (the deployer's) |
//! | `execution_timeout_ms` | `timeout` |
//! | `flashboot` | `flashboot: "FLASHBOOT"` / `"OFF"` |
//!
//! `concurrency`, `max_steps`, `init`, `interactive` and `min_vram_gb` need no field: the binary
//! in the image carries its own config.
//!
//! # Updates
//!
//! Existing endpoints are found by name (`GET /v2/serverless`) and PATCHed with the fields that
//! differ. `workers`, `scaling` and `timeout` apply in place; the image, `env`, the GPU or CPU
//! selection, data centers, volumes and FlashBoot start a rolling release (workers are replaced as
//! they finish their jobs). GPU ↔ CPU, or a load-balancer endpoint of the same name, cannot be
//! PATCHed: the endpoint must be deleted and created again (`--force`), which changes its id.

mod command;
pub mod cost;
mod deployment;
mod desired;
mod diff;
pub mod dockerfile;
mod error;
pub mod management;
pub mod manifest;
mod output;
pub mod plan;
pub mod remote;
mod render;
mod resolve;
mod undeploy;
pub mod volume;

pub use command::{DeployArgs, UndeployArgs, run_deploy, run_undeploy};
pub use cost::CostEstimate;
pub use deployment::{DeployOptions, Deployment, deploy};
pub use diff::{Change, Effect};
pub use dockerfile::{CudaBuild, DockerfileOptions, dockerfile};
pub use error::{DeployError, PlanError};
pub use management::{ApiRequest, DEFAULT_API_URL, ManagementApi, ManagementError};
pub use manifest::{Manifest, ManifestError, ManifestExternal, app_name};
pub use plan::{AccountState, Action, Plan, PlanOptions};
pub use undeploy::{UndeployPlan, undeploy};
pub use volume::{VolumeAction, VolumeKey};
