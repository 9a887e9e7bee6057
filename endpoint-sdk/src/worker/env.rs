//! The worker's view of the platform: the variables Runpod sets in a serverless container, and
//! the URLs built from their templates.

use std::time::Duration;

use crate::protocol::vars;

/// Why the worker's environment is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvError {
    /// A required variable is missing.
    #[error(
        "{0} is not set: the platform sets it in a serverless worker; to run a job locally use `worker --test-input '<json>'`, and to take jobs from `app dev` set RUNPOD_WEBHOOK_GET_JOB, RUNPOD_WEBHOOK_POST_OUTPUT, RUNPOD_WEBHOOK_POST_STREAM and RUNPOD_WEBHOOK_PING to its job API (README, \"Workers against app dev\")"
    )]
    Missing(&'static str),
    /// A variable has a value that cannot be used.
    #[error("{name} = {value:?} is not valid: {why}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
        /// What is wrong.
        why: String,
    },
}

/// The platform's worker variables.
#[derive(Clone)]
pub struct WorkerEnv {
    /// `RUNPOD_WEBHOOK_GET_JOB`.
    pub get_job: String,
    /// `RUNPOD_WEBHOOK_POST_OUTPUT`.
    pub post_output: String,
    /// `RUNPOD_WEBHOOK_POST_STREAM` (defaults to the output URL with `job-done` → `job-stream`).
    pub post_stream: String,
    /// `RUNPOD_WEBHOOK_PING`, if the platform sent one.
    pub ping: Option<String>,
    /// `RUNPOD_PING_INTERVAL` (ms; default 10 s).
    pub ping_interval: Duration,
    /// `RUNPOD_AI_API_KEY`: sent as the raw `Authorization` header. Never logged.
    pub api_key: Option<String>,
    /// `RUNPOD_POD_ID`, or a random id.
    pub worker_id: String,
    /// `RUNPOD_ENDPOINT_ID`: when set, logs are JSON lines.
    pub endpoint_id: Option<String>,
}

impl std::fmt::Debug for WorkerEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerEnv")
            .field("get_job", &self.get_job)
            .field("post_output", &self.post_output)
            .field("post_stream", &self.post_stream)
            .field("ping", &self.ping)
            .field("ping_interval", &self.ping_interval)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("worker_id", &self.worker_id)
            .field("endpoint_id", &self.endpoint_id)
            .finish()
    }
}

impl WorkerEnv {
    /// Reads the process environment.
    pub fn from_env() -> Result<WorkerEnv, EnvError> {
        WorkerEnv::from_lookup(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }

    /// Reads variables through `get` (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<WorkerEnv, EnvError> {
        let get_job = get(vars::RUNPOD_WEBHOOK_GET_JOB)
            .ok_or(EnvError::Missing(vars::RUNPOD_WEBHOOK_GET_JOB))?;
        let post_output = get(vars::RUNPOD_WEBHOOK_POST_OUTPUT)
            .ok_or(EnvError::Missing(vars::RUNPOD_WEBHOOK_POST_OUTPUT))?;
        let post_stream = get(vars::RUNPOD_WEBHOOK_POST_STREAM)
            .unwrap_or_else(|| post_output.replace("/job-done/", "/job-stream/"));
        let ping_interval = match get(vars::RUNPOD_PING_INTERVAL) {
            None => Duration::from_secs(10),
            Some(v) => {
                let ms: u64 = v.trim().parse().map_err(|_| EnvError::Invalid {
                    name: vars::RUNPOD_PING_INTERVAL,
                    value: v.clone(),
                    why: "expected milliseconds, e.g. 10000".into(),
                })?;
                // Unlike the Python SDK (whole seconds: 500 ms becomes 0 s), keep the ms.
                Duration::from_millis(ms.max(100))
            }
        };
        for (name, url) in [
            (vars::RUNPOD_WEBHOOK_GET_JOB, &get_job),
            (vars::RUNPOD_WEBHOOK_POST_OUTPUT, &post_output),
        ] {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(EnvError::Invalid {
                    name,
                    value: url.clone(),
                    why: "expected an http(s) URL template".into(),
                });
            }
        }
        Ok(WorkerEnv {
            get_job,
            post_output,
            post_stream,
            ping: get(vars::RUNPOD_WEBHOOK_PING),
            ping_interval,
            api_key: get(vars::RUNPOD_AI_API_KEY),
            worker_id: get(vars::RUNPOD_POD_ID).unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            endpoint_id: get(vars::RUNPOD_ENDPOINT_ID),
        })
    }

    /// The job-take URL: single, or the batch form for `batch > 1`.
    pub(crate) fn take_url(&self, batch: usize, job_in_progress: bool) -> String {
        let base = self.substitute(&self.get_job, None);
        let flag = if job_in_progress { "1" } else { "0" };
        if batch > 1 {
            let batch_size = batch.to_string();
            with_query(
                &base.replacen("/job-take/", "/job-take-batch/", 1),
                &[("batch_size", &batch_size), ("job_in_progress", flag)],
            )
        } else {
            with_query(&base, &[("job_in_progress", flag)])
        }
    }

    /// The job-stop long-poll URL (the take URL with `/job-take/` → `/job-stop/`).
    pub(crate) fn stop_url(&self) -> String {
        self.substitute(&self.get_job, None)
            .replacen("/job-take/", "/job-stop/", 1)
    }

    /// The URL for a job's result or progress.
    pub(crate) fn done_url(&self, job: &str, is_stream: bool) -> String {
        let url = self.substitute(&self.post_output, Some(job));
        with_query(
            &url,
            &[("isStream", if is_stream { "true" } else { "false" })],
        )
    }

    /// The URL for a job's stream chunk.
    pub(crate) fn stream_url(&self, job: &str) -> String {
        let url = self.substitute(&self.post_stream, Some(job));
        with_query(&url, &[("isStream", "false")])
    }

    /// The heartbeat URL with the running jobs.
    pub(crate) fn ping_url(&self, running: &[String]) -> Option<String> {
        let base = self.substitute(self.ping.as_ref()?, None);
        let version = concat!("endpoint-sdk-", env!("CARGO_PKG_VERSION"));
        let jobs = running.join(",");
        let mut params: Vec<(&str, &str)> = Vec::new();
        if !running.is_empty() {
            params.push(("job_id", &jobs));
        }
        params.push(("runpod_version", version));
        Some(with_query(&base, &params))
    }

    /// Replaces `$RUNPOD_POD_ID` with the worker id, and `$ID` with the job id (result URLs)
    /// or the worker id (take and ping URLs). The two tokens do not overlap.
    fn substitute(&self, template: &str, job: Option<&str>) -> String {
        let url = template.replace("$RUNPOD_POD_ID", &self.worker_id);
        url.replace("$ID", job.unwrap_or(&self.worker_id))
    }
}

/// Appends query parameters, with `?` or `&` as the URL needs (templates may end in `?`, carry
/// a query already, or have none).
pub(crate) fn with_query(url: &str, params: &[(&str, &str)]) -> String {
    let mut out = url.to_string();
    for (k, v) in params {
        if !out.contains('?') {
            out.push('?');
        } else if !out.ends_with('?') && !out.ends_with('&') {
            out.push('&');
        }
        out.push_str(&crate::http::urlencode(k));
        out.push('=');
        out.push_str(&crate::http::urlencode(v));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> Result<WorkerEnv, EnvError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        WorkerEnv::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn templates_are_substituted_and_queries_appended_with_or_without_a_question_mark() {
        let e = env(&[
            (
                "RUNPOD_WEBHOOK_GET_JOB",
                "https://api.runpod.ai/v2/ep/job-take/$ID?gpu=NVIDIA+L4",
            ),
            (
                "RUNPOD_WEBHOOK_POST_OUTPUT",
                "https://api.runpod.ai/v2/ep/job-done/$RUNPOD_POD_ID/$ID?gpu=NVIDIA+L4",
            ),
            (
                "RUNPOD_WEBHOOK_PING",
                "https://api.runpod.ai/v2/ep/ping/$RUNPOD_POD_ID",
            ),
            ("RUNPOD_POD_ID", "pod1"),
            ("RUNPOD_PING_INTERVAL", "2500"),
        ])
        .unwrap();
        assert_eq!(
            e.take_url(1, false),
            "https://api.runpod.ai/v2/ep/job-take/pod1?gpu=NVIDIA+L4&job_in_progress=0"
        );
        assert_eq!(
            e.take_url(4, true),
            "https://api.runpod.ai/v2/ep/job-take-batch/pod1?gpu=NVIDIA+L4&batch_size=4&job_in_progress=1"
        );
        assert_eq!(
            e.stop_url(),
            "https://api.runpod.ai/v2/ep/job-stop/pod1?gpu=NVIDIA+L4"
        );
        assert_eq!(
            e.done_url("j-1", false),
            "https://api.runpod.ai/v2/ep/job-done/pod1/j-1?gpu=NVIDIA+L4&isStream=false"
        );
        assert_eq!(
            e.stream_url("j-1"),
            "https://api.runpod.ai/v2/ep/job-stream/pod1/j-1?gpu=NVIDIA+L4&isStream=false"
        );
        assert_eq!(
            e.ping_url(&["a".into(), "b".into()]).unwrap(),
            format!(
                "https://api.runpod.ai/v2/ep/ping/pod1?job_id=a,b&runpod_version=endpoint-sdk-{}",
                env!("CARGO_PKG_VERSION")
            )
        );
        assert_eq!(e.ping_interval, Duration::from_millis(2500));

        // Templates ending in `?` (as some platforms inject them) or without a query.
        let e = env(&[
            ("RUNPOD_WEBHOOK_GET_JOB", "http://h/v2/ep/job-take/$ID?"),
            (
                "RUNPOD_WEBHOOK_POST_OUTPUT",
                "http://h/v2/ep/job-done/$RUNPOD_POD_ID/$ID",
            ),
            ("RUNPOD_POD_ID", "w"),
        ])
        .unwrap();
        assert_eq!(
            e.take_url(1, true),
            "http://h/v2/ep/job-take/w?job_in_progress=1"
        );
        assert_eq!(
            e.done_url("j", true),
            "http://h/v2/ep/job-done/w/j?isStream=true"
        );
        assert_eq!(
            e.stream_url("j"),
            "http://h/v2/ep/job-stream/w/j?isStream=false"
        );
        assert!(e.ping_url(&[]).is_none());
    }

    #[test]
    fn missing_and_invalid_variables_are_named() {
        let err = env(&[]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("RUNPOD_WEBHOOK_GET_JOB is not set")
        );
        let err = env(&[
            ("RUNPOD_WEBHOOK_GET_JOB", "http://h/v2/ep/job-take/$ID"),
            ("RUNPOD_WEBHOOK_POST_OUTPUT", "http://h/d"),
            ("RUNPOD_PING_INTERVAL", "ten"),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("RUNPOD_PING_INTERVAL"));
        let redacted = format!(
            "{:?}",
            env(&[
                ("RUNPOD_WEBHOOK_GET_JOB", "http://h/t/$ID"),
                ("RUNPOD_WEBHOOK_POST_OUTPUT", "http://h/d"),
                ("RUNPOD_AI_API_KEY", "sk-very-secret"),
            ])
            .unwrap()
        );
        assert!(!redacted.contains("sk-very-secret"), "{redacted}");
    }
}
