//! The platform's wire: what clients, workers and the platform send each other, its limits and
//! the variables it sets, each defined once (`shared/reference/runpod-protocol.md`). A leaf: it
//! depends on serde and `endpoint-config` only, and every other module takes these types from
//! here (besides `thiserror` for its errors and `fastrand` for trace ids).

pub mod batch;
pub mod envelope;
mod failure;
mod health;
pub(crate) mod hex;
pub mod job;
pub mod limits;
pub mod load_balancer;
mod request;
mod status;
pub mod trace_context;
pub mod vars;

pub use failure::{FailureKind, JobFailure};
pub use health::{Health, HealthJobs, HealthWorkers};
pub use job::JobObject;
pub use request::{Policy, PolicyError, RunRequest};
pub use status::{JobStatus, StatusObject};
