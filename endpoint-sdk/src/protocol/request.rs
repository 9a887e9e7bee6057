//! What a client submits: the body of `/run` and `/runsync`, with the job's `policy` checked
//! against the platform's ranges.

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use super::envelope::{JobMeta, Wrapped};
use super::limits;

/// A job submission: the body of `/run` and `/runsync`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct RunRequest {
    /// The job's input (required by the platform).
    pub input: Value,
    /// What an SDK caller tells the callee beside the input (session, deadline, trace
    /// context). It is sent inside `input`, as its envelope (see [`super::envelope`]); a
    /// runtime in the same process reads it as it is. Received requests carry it in `input`.
    #[serde(skip)]
    pub meta: JobMeta,
    /// Called with the final status object.
    #[serde(default)]
    pub webhook: Option<String>,
    /// Per-job execution timeout, TTL and priority.
    #[serde(default)]
    pub policy: Option<Policy>,
    /// Passed through to the worker, never echoed back.
    #[serde(default, rename = "s3Config")]
    pub s3_config: Option<Value>,
}

/// The platform's body: `input` inside its envelope when `meta` says anything.
impl Serialize for RunRequest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        let input = Wrapped {
            meta: &self.meta,
            input: &self.input,
        };
        map.serialize_entry("input", &input)?;
        if let Some(webhook) = &self.webhook {
            map.serialize_entry("webhook", webhook)?;
        }
        if let Some(policy) = &self.policy {
            map.serialize_entry("policy", policy)?;
        }
        if let Some(s3) = &self.s3_config {
            map.serialize_entry("s3Config", s3)?;
        }
        map.end()
    }
}

impl From<Value> for RunRequest {
    fn from(input: Value) -> Self {
        RunRequest {
            input,
            ..RunRequest::default()
        }
    }
}

/// A job's execution policy, in the platform's units (milliseconds).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    /// Overrides the endpoint's execution timeout for this job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_timeout: Option<u64>,
    /// Total lifespan from submission; past it the job is deleted, even mid-run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u64>,
    /// The job does not trigger scaling and is taken after the others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low_priority: Option<bool>,
}

/// A `policy` the platform would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// `executionTimeout` outside 5 s to 7 days.
    #[error(
        "policy.executionTimeout = {0} ms is out of range: the platform accepts 5000 ms to 7 days"
    )]
    ExecutionTimeout(u64),
    /// `ttl` outside 10 s to 7 days.
    #[error("policy.ttl = {0} ms is out of range: the platform accepts 10000 ms to 7 days")]
    Ttl(u64),
}

impl Policy {
    /// Checks the platform's ranges: `executionTimeout` 5 s to 7 days, `ttl` 10 s to 7 days.
    pub fn validate(&self) -> Result<(), PolicyError> {
        if let Some(ms) = self.execution_timeout
            && !limits::POLICY_EXECUTION_TIMEOUT_MS.contains(&ms)
        {
            return Err(PolicyError::ExecutionTimeout(ms));
        }
        if let Some(ms) = self.ttl
            && !limits::POLICY_TTL_MS.contains(&ms)
        {
            return Err(PolicyError::Ttl(ms));
        }
        Ok(())
    }

    /// Whether the policy sets nothing (it is then left out of a request).
    pub fn is_empty(&self) -> bool {
        *self == Policy::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_outside_the_platform_ranges_are_refused_with_the_range() {
        let p = |execution_timeout, ttl| Policy {
            execution_timeout,
            ttl,
            low_priority: None,
        };
        assert_eq!(p(Some(5_000), Some(10_000)).validate(), Ok(()));
        let e = p(Some(4_999), None).validate().unwrap_err();
        assert!(e.to_string().contains("5000 ms to 7 days"), "{e}");
        assert_eq!(
            p(None, Some(9_999)).validate(),
            Err(PolicyError::Ttl(9_999))
        );
        assert!(p(None, None).is_empty());
        let json = serde_json::to_value(RunRequest {
            policy: Some(p(Some(6_000), None)),
            ..RunRequest::from(serde_json::json!(1))
        })
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"input": 1, "policy": {"executionTimeout": 6000}})
        );
    }
}
