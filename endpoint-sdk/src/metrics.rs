//! Prometheus metrics of this process, in the OpenMetrics text format (`prometheus-client`):
//! what `app dev` serves at `/metrics`, and a production worker on `ENDPOINT_METRICS_PORT`.
//!
//! | metric | type | labels | what |
//! |---|---|---|---|
//! | `endpoint_jobs_total` | counter | `endpoint`, `status` | jobs that ended, by final status (`TIMED_OUT` and `CANCELLED` are the timeouts and cancellations) |
//! | `endpoint_jobs_queued` | gauge | `endpoint` | jobs waiting in the queue |
//! | `endpoint_jobs_in_progress` | gauge | `endpoint` | jobs running |
//! | `endpoint_job_queue_delay_seconds` | histogram | `endpoint` | time in the queue |
//! | `endpoint_job_execution_seconds` | histogram | `endpoint` | time running |
//! | `endpoint_job_requeues_total` | counter | `endpoint` | jobs run again because their worker was lost |
//! | `endpoint_workers` | gauge | `endpoint`, `state` | workers `initializing`, `idle`, `running` |
//! | `endpoint_cold_start_seconds` | histogram | `endpoint` | cold start plus `init` (its `_count`: cold starts) |
//! | `endpoint_call_retries_total` | counter | `callee` | calls' reads and submits sent again |
//! | `endpoint_step_budget_exhausted_total` | counter | `caller` | calls refused by `max_steps` |
//! | `endpoint_stream_chunks_total` | counter | `endpoint` | stream chunks written |
//! | `endpoint_lb_requests_total` | counter | `endpoint`, `status`, `affinity` | load-balancing requests by status and what became of their pin (`none`, `kept`, `moved`, `gone`, `timeout`, `unserved`) |
//! | `endpoint_lb_request_seconds` | histogram | `endpoint` | a load-balancing request's time to its answer's headers |
//!
//! The counters and histograms of the process live in one [`Metrics`] ([`global`]); under
//! `app dev` the gauges are set from the runtime's state when the page is read, in a worker
//! `endpoint_jobs_in_progress` follows its jobs (the queue and its workers are the platform's).

use std::sync::OnceLock;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The `Content-Type` of the page.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Ep {
    endpoint: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EpStatus {
    endpoint: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EpState {
    endpoint: String,
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Callee {
    callee: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Caller {
    caller: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LbLabels {
    endpoint: String,
    status: String,
    affinity: String,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn seconds() -> Histogram {
    // 1 ms to about 9 minutes.
    Histogram::new(exponential_buckets(0.001, 2.0, 20))
}

/// The metrics of one process.
pub struct Metrics {
    registry: Registry,
    jobs: Family<EpStatus, Counter>,
    queued: Family<Ep, Gauge>,
    in_progress: Family<Ep, Gauge>,
    queue_delay: Histograms<Ep>,
    execution: Histograms<Ep>,
    requeues: Family<Ep, Counter>,
    workers: Family<EpState, Gauge>,
    cold_starts: Histograms<Ep>,
    call_retries: Family<Callee, Counter>,
    step_budget: Family<Caller, Counter>,
    chunks: Family<Ep, Counter>,
    lb_requests: Family<LbLabels, Counter>,
    lb_seconds: Histograms<Ep>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics(..)")
    }
}

/// What became of a load-balancing request's pin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinOutcome {
    /// It had none.
    None,
    /// Its worker served it.
    Kept,
    /// Another worker served it (a soft pin whose worker was busy or unknown).
    Moved,
    /// Its worker was gone (`affinity_worker_gone`).
    Gone,
    /// Its worker stayed busy (`worker_timeout`).
    Timeout,
    /// The balancer answered for another reason (no worker, the cap, the size limit).
    Unserved,
}

impl PinOutcome {
    fn label(self) -> &'static str {
        match self {
            PinOutcome::None => "none",
            PinOutcome::Kept => "kept",
            PinOutcome::Moved => "moved",
            PinOutcome::Gone => "gone",
            PinOutcome::Timeout => "timeout",
            PinOutcome::Unserved => "unserved",
        }
    }
}

fn ep(endpoint: &str) -> Ep {
    Ep {
        endpoint: endpoint.to_string(),
    }
}

impl Metrics {
    /// Empty metrics, registered.
    pub fn new() -> Self {
        let mut m = Metrics {
            registry: Registry::default(),
            jobs: Family::default(),
            queued: Family::default(),
            in_progress: Family::default(),
            queue_delay: Family::new_with_constructor(seconds),
            execution: Family::new_with_constructor(seconds),
            requeues: Family::default(),
            workers: Family::default(),
            cold_starts: Family::new_with_constructor(seconds),
            call_retries: Family::default(),
            step_budget: Family::default(),
            chunks: Family::default(),
            lb_requests: Family::default(),
            lb_seconds: Family::new_with_constructor(seconds),
        };
        let r = &mut m.registry;
        r.register(
            "endpoint_jobs",
            "Jobs that ended, by final status",
            m.jobs.clone(),
        );
        r.register(
            "endpoint_jobs_queued",
            "Jobs waiting in the queue",
            m.queued.clone(),
        );
        r.register(
            "endpoint_jobs_in_progress",
            "Jobs running",
            m.in_progress.clone(),
        );
        r.register(
            "endpoint_job_queue_delay_seconds",
            "Time a job waited in the queue",
            m.queue_delay.clone(),
        );
        r.register(
            "endpoint_job_execution_seconds",
            "Time a job ran",
            m.execution.clone(),
        );
        r.register(
            "endpoint_job_requeues",
            "Jobs run again because their worker was lost",
            m.requeues.clone(),
        );
        r.register("endpoint_workers", "Workers by state", m.workers.clone());
        r.register(
            "endpoint_cold_start_seconds",
            "A worker's cold start and init",
            m.cold_starts.clone(),
        );
        r.register(
            "endpoint_call_retries",
            "Reads and submits of calls sent again",
            m.call_retries.clone(),
        );
        r.register(
            "endpoint_step_budget_exhausted",
            "Calls refused because the calling job spent its max_steps",
            m.step_budget.clone(),
        );
        r.register(
            "endpoint_stream_chunks",
            "Stream chunks written",
            m.chunks.clone(),
        );
        r.register(
            "endpoint_lb_requests",
            "Load-balancing requests by status and what became of their pin",
            m.lb_requests.clone(),
        );
        r.register(
            "endpoint_lb_request_seconds",
            "A load-balancing request's time to its answer's headers",
            m.lb_seconds.clone(),
        );
        m
    }

    /// The page, in the OpenMetrics text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String does not fail");
        out
    }

    /// A job of `endpoint` ended with `status` after running for `execution`.
    pub fn job_ended(&self, endpoint: &str, status: &str, execution: Duration) {
        let labels = EpStatus {
            endpoint: endpoint.to_string(),
            status: status.to_string(),
        };
        self.jobs.get_or_create(&labels).inc();
        self.execution
            .get_or_create(&ep(endpoint))
            .observe(execution.as_secs_f64());
    }

    /// The metrics a production worker moves job by job, for `endpoint`, looked up once.
    pub fn worker_handles(&self, endpoint: &str) -> WorkerHandles {
        let status = |s: &str| {
            self.jobs.get_or_create_owned(&EpStatus {
                endpoint: endpoint.to_string(),
                status: s.to_string(),
            })
        };
        WorkerHandles {
            completed: status("COMPLETED"),
            failed: status("FAILED"),
            timed_out: status("TIMED_OUT"),
            cancelled: status("CANCELLED"),
            execution: self.execution.get_or_create_owned(&ep(endpoint)),
            in_progress: self.in_progress(endpoint),
            chunks: self.stream_chunks(endpoint),
        }
    }

    /// A job of `endpoint` waited `delay` in the queue (known where the queue is: `app dev`).
    pub fn queue_delay(&self, endpoint: &str, delay: Duration) {
        self.queue_delay
            .get_or_create(&ep(endpoint))
            .observe(delay.as_secs_f64());
    }

    /// A job of `endpoint` was put back in the queue (its worker was lost).
    pub fn job_requeued(&self, endpoint: &str) {
        self.requeues.get_or_create(&ep(endpoint)).inc();
    }

    /// A worker of `endpoint` became ready after `startup`.
    pub fn cold_start(&self, endpoint: &str, startup: Duration) {
        self.cold_starts
            .get_or_create(&ep(endpoint))
            .observe(startup.as_secs_f64());
    }

    /// Sets the gauges of `endpoint`: jobs queued and running, workers by state.
    pub fn set_state(&self, endpoint: &str, health: &crate::protocol::Health) {
        let set = |g: &Family<Ep, Gauge>, v: u64| {
            g.get_or_create(&ep(endpoint)).set(v as i64);
        };
        set(&self.queued, health.jobs.in_queue);
        set(&self.in_progress, health.jobs.in_progress);
        for (state, n) in [
            ("initializing", health.workers.initializing),
            ("idle", health.workers.idle),
            ("running", health.workers.running),
        ] {
            let labels = EpState {
                endpoint: endpoint.to_string(),
                state: state.to_string(),
            };
            self.workers.get_or_create(&labels).set(n as i64);
        }
    }

    /// The in-progress gauge of `endpoint` (a production worker moves it job by job).
    pub fn in_progress(&self, endpoint: &str) -> Gauge {
        self.in_progress.get_or_create_owned(&ep(endpoint))
    }

    /// A call to `callee` sent a read or a submit again.
    pub fn call_retried(&self, callee: &str) {
        let labels = Callee {
            callee: callee.to_string(),
        };
        self.call_retries.get_or_create(&labels).inc();
    }

    /// A job of `caller` was refused a call by its step budget.
    pub fn step_budget_exhausted(&self, caller: &str) {
        let labels = Caller {
            caller: caller.to_string(),
        };
        self.step_budget.get_or_create(&labels).inc();
    }

    /// The stream-chunk counter of `endpoint` (kept by a job's sink: one lookup per job).
    pub fn stream_chunks(&self, endpoint: &str) -> Counter {
        self.chunks.get_or_create_owned(&ep(endpoint))
    }

    /// A load-balancing request of `endpoint` answered `status` after `took`.
    pub fn lb_request(&self, endpoint: &str, status: u16, pin: PinOutcome, took: Duration) {
        let labels = LbLabels {
            endpoint: endpoint.to_string(),
            status: status.to_string(),
            affinity: pin.label().to_string(),
        };
        self.lb_requests.get_or_create(&labels).inc();
        self.lb_seconds
            .get_or_create(&ep(endpoint))
            .observe(took.as_secs_f64());
    }
}

/// One endpoint's metrics as a production worker moves them, without a lookup per job.
#[derive(Clone, Debug)]
pub struct WorkerHandles {
    /// `endpoint_jobs_total{status="COMPLETED"}`.
    pub completed: Counter,
    /// `endpoint_jobs_total{status="FAILED"}`.
    pub failed: Counter,
    /// `endpoint_jobs_total{status="TIMED_OUT"}`.
    pub timed_out: Counter,
    /// `endpoint_jobs_total{status="CANCELLED"}`.
    pub cancelled: Counter,
    /// `endpoint_job_execution_seconds`.
    pub execution: Histogram,
    /// `endpoint_jobs_in_progress`.
    pub in_progress: Gauge,
    /// `endpoint_stream_chunks_total`.
    pub chunks: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// The metrics of this process.
pub fn global() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_names_every_family_in_prometheus_conventions() {
        let m = Metrics::new();
        m.job_ended("echo", "COMPLETED", Duration::from_millis(40));
        m.queue_delay("echo", Duration::from_millis(3));
        m.lb_request("chat", 200, PinOutcome::Kept, Duration::from_millis(2));
        m.stream_chunks("echo").inc_by(3);
        let page = m.render();
        for line in [
            "# TYPE endpoint_jobs counter",
            r#"endpoint_jobs_total{endpoint="echo",status="COMPLETED"} 1"#,
            "# TYPE endpoint_job_execution_seconds histogram",
            r#"endpoint_job_execution_seconds_count{endpoint="echo"} 1"#,
            r#"endpoint_stream_chunks_total{endpoint="echo"} 3"#,
            r#"endpoint_lb_requests_total{endpoint="chat",status="200",affinity="kept"} 1"#,
            "# EOF",
        ] {
            assert!(page.contains(line), "missing {line:?} in\n{page}");
        }
    }
}
