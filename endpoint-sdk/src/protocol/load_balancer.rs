//! Load-balancing endpoints on the wire (`shared/reference/load-balancing-and-streaming.md`
//! §1–3): the balancer's worker-id header and its affinity modes, the errors the balancer itself
//! answers with, its limits, and the headers an SDK caller adds to a request (its deadline, its
//! session, its W3C trace context), which the worker's `Ctx` reads.

use std::time::Duration;

use super::envelope::Deadline;

/// The balancer's header: on every response, the worker that served it; on a request, which
/// worker to prefer or require ([`Affinity`]).
pub const WORKER_ID_HEADER: &str = "x-runpod-worker-id";
/// An SDK caller's deadline: `<Unix ms> <budget ms>` (as the job envelope's `$deadline`).
pub const DEADLINE_HEADER: &str = "x-endpoint-deadline";
/// An SDK caller's session (a conversation): the request's `Ctx::session` opens it.
pub const SESSION_HEADER: &str = "x-endpoint-session";
/// The W3C trace context of the call.
pub const TRACEPARENT_HEADER: &str = "traceparent";

/// The largest request or response body the balancer passes.
pub const PAYLOAD_LIMIT: usize = 30 * 1024 * 1024;
/// How long a request waits for a worker when none is ready, before `no workers available`.
pub const NO_WORKER_WAIT: Duration = Duration::from_secs(120);
/// How long a strictly pinned request waits for its worker to have room.
pub const STRICT_WAIT: Duration = Duration::from_secs(300);
/// The longest one request runs before the balancer answers `524`.
pub const REQUEST_CAP: Duration = Duration::from_millis(endpoint_config::limits::LB_REQUEST_MS);

/// What a request's `X-Runpod-Worker-Id` asks of the balancer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Affinity {
    /// No header (or an empty one): any worker.
    Any,
    /// `<id>`: that worker if it is there and has room, else any (never fails because of it).
    Prefer(String),
    /// `strict <id>`: only that worker; wait while it is busy; `affinity_worker_gone` if it is.
    Strict(String),
    /// `strict-resume <id>`: like strict, but a worker that was scaled down is resumed.
    StrictResume(String),
}

impl Affinity {
    /// Reads a header value (`None`: no header).
    pub fn parse(value: Option<&str>) -> Affinity {
        let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
            return Affinity::Any;
        };
        match v.split_once(' ') {
            Some(("strict", id)) if !id.trim().is_empty() => Affinity::Strict(id.trim().into()),
            Some(("strict-resume", id)) if !id.trim().is_empty() => {
                Affinity::StrictResume(id.trim().into())
            }
            _ => Affinity::Prefer(v.to_string()),
        }
    }

    /// The header value that asks for this (`None`: send no header).
    pub fn header_value(&self) -> Option<String> {
        match self {
            Affinity::Any => None,
            Affinity::Prefer(id) => Some(id.clone()),
            Affinity::Strict(id) => Some(format!("strict {id}")),
            Affinity::StrictResume(id) => Some(format!("strict-resume {id}")),
        }
    }

    /// The worker asked for, if any.
    pub fn worker(&self) -> Option<&str> {
        match self {
            Affinity::Any => None,
            Affinity::Prefer(id) | Affinity::Strict(id) | Affinity::StrictResume(id) => Some(id),
        }
    }
}

/// An answer from the balancer itself rather than from a worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BalancerError {
    /// No worker became ready within [`NO_WORKER_WAIT`]: `400 no workers available`.
    NoWorkers,
    /// A strictly pinned request's worker stayed busy for [`STRICT_WAIT`]: `400 worker_timeout`.
    WorkerTimeout,
    /// A strictly pinned request's worker is no longer there: `404 affinity_worker_gone`.
    WorkerGone,
    /// The request ran past [`REQUEST_CAP`] (or the endpoint's execution timeout): `524`.
    RequestTimeout,
    /// The body is over [`PAYLOAD_LIMIT`]: `413`.
    PayloadTooLarge,
    /// A load-balancing path called on a queue endpoint: `400 not allowed for QB API`.
    NotLoadBalancing,
}

impl BalancerError {
    /// Every kind, for tests and parsers.
    pub const ALL: [BalancerError; 6] = [
        BalancerError::NoWorkers,
        BalancerError::WorkerTimeout,
        BalancerError::WorkerGone,
        BalancerError::RequestTimeout,
        BalancerError::PayloadTooLarge,
        BalancerError::NotLoadBalancing,
    ];

    /// The HTTP status the balancer answers with.
    pub fn status(self) -> u16 {
        match self {
            BalancerError::NoWorkers
            | BalancerError::WorkerTimeout
            | BalancerError::NotLoadBalancing => 400,
            BalancerError::WorkerGone => 404,
            BalancerError::RequestTimeout => 524,
            BalancerError::PayloadTooLarge => 413,
        }
    }

    /// The `error` field of the answer's body: the platform's reason where it documents one.
    pub fn reason(self) -> &'static str {
        match self {
            BalancerError::NoWorkers => "no workers available",
            BalancerError::WorkerTimeout => "worker_timeout",
            BalancerError::WorkerGone => "affinity_worker_gone",
            BalancerError::RequestTimeout => "request_timeout",
            BalancerError::PayloadTooLarge => "payload_too_large",
            BalancerError::NotLoadBalancing => "not allowed for QB API",
        }
    }

    /// What happened and what to do, for people.
    pub fn message(self) -> &'static str {
        match self {
            BalancerError::NoWorkers => {
                "no worker became ready within 2 minutes; retry once one is up (probe the health \
                 path first), or keep warm workers with workers = (1, ..)"
            }
            BalancerError::WorkerTimeout => {
                "timed out waiting for worker: the pinned worker stayed at capacity for 5 minutes; \
                 retry without `strict`, or let the conversation move"
            }
            BalancerError::WorkerGone => {
                "the pinned worker is gone (it stopped or was replaced): send the request without \
                 the pin and rehydrate the session on the worker that takes it"
            }
            BalancerError::RequestTimeout => {
                "the request ran past the endpoint's limit (at most 5.5 minutes on the platform); \
                 answer sooner, or hand long work to a queue endpoint"
            }
            BalancerError::PayloadTooLarge => {
                "the body is over the balancer's 30 MB limit; send large data by reference (a URL, \
                 a network volume)"
            }
            BalancerError::NotLoadBalancing => {
                "this is a queue endpoint: submit jobs with /run or /runsync"
            }
        }
    }

    /// The answer's JSON body: `{"error": reason, "message": ..}`.
    pub fn body(self) -> serde_json::Value {
        serde_json::json!({ "error": self.reason(), "message": self.message() })
    }

    /// The balancer error an answer is, if it is one: its status and its body's `error`.
    pub fn recognize(status: u16, body: &[u8]) -> Option<BalancerError> {
        let v: serde_json::Value = serde_json::from_slice(body).ok()?;
        let reason = v.get("error")?.as_str()?;
        BalancerError::ALL
            .into_iter()
            .find(|e| e.status() == status && e.reason() == reason)
    }
}

/// The deadline header's value for `deadline`.
pub fn deadline_header(deadline: &Deadline) -> String {
    format!("{} {}", deadline.at_ms, deadline.budget_ms)
}

/// Reads a deadline header (`None` when it is not `<Unix ms> <budget ms>`).
pub fn parse_deadline_header(value: &str) -> Option<Deadline> {
    let (at, budget) = value.trim().split_once(' ')?;
    Some(Deadline {
        at_ms: at.trim().parse().ok()?,
        budget_ms: budget.trim().parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affinity_headers_read_and_write_the_three_modes() {
        assert_eq!(Affinity::parse(None), Affinity::Any);
        assert_eq!(Affinity::parse(Some("  ")), Affinity::Any);
        assert_eq!(Affinity::parse(Some("w1")), Affinity::Prefer("w1".into()));
        assert_eq!(
            Affinity::parse(Some("strict w1")),
            Affinity::Strict("w1".into())
        );
        assert_eq!(
            Affinity::parse(Some("strict-resume pod-abc")),
            Affinity::StrictResume("pod-abc".into())
        );
        for a in [
            Affinity::Prefer("w".into()),
            Affinity::Strict("w".into()),
            Affinity::StrictResume("w".into()),
        ] {
            assert_eq!(Affinity::parse(a.header_value().as_deref()), a);
            assert_eq!(a.worker(), Some("w"));
        }
        assert_eq!(Affinity::Any.header_value(), None);
    }

    #[test]
    fn balancer_errors_are_recognized_from_their_answer() {
        for e in BalancerError::ALL {
            let body = serde_json::to_vec(&e.body()).unwrap();
            assert_eq!(BalancerError::recognize(e.status(), &body), Some(e));
        }
        assert_eq!(BalancerError::recognize(404, b"{\"error\":\"nope\"}"), None);
        assert_eq!(BalancerError::recognize(400, b"not json"), None);
    }

    #[test]
    fn the_deadline_header_round_trips() {
        let d = Deadline {
            at_ms: 1_700_000_000_000,
            budget_ms: 8_000,
        };
        assert_eq!(parse_deadline_header(&deadline_header(&d)), Some(d));
        assert_eq!(parse_deadline_header("soon"), None);
    }
}
