//! `/health`: an endpoint's job and worker counts.

use serde::{Deserialize, Serialize};

/// `/health`: job counts and worker counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// Job counts.
    pub jobs: HealthJobs,
    /// Worker counts.
    pub workers: HealthWorkers,
}

/// Job counts of `/health`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthJobs {
    /// Completed since start.
    pub completed: u64,
    /// Failed or timed out since start.
    pub failed: u64,
    /// Running now.
    pub in_progress: u64,
    /// Waiting now.
    pub in_queue: u64,
    /// Retried since start.
    pub retried: u64,
}

/// Worker counts of `/health`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthWorkers {
    /// Ready, with no job.
    pub idle: u64,
    /// Cold-starting or running `init`.
    pub initializing: u64,
    /// Ready (idle + running).
    pub ready: u64,
    /// Running at least one job.
    pub running: u64,
    /// Never set locally (the platform throttles when GPUs are scarce).
    pub throttled: u64,
    /// 1 while the endpoint's workers fail their `init`, else 0.
    pub unhealthy: u64,
}
