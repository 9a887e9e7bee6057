//! The job envelope: what an SDK caller tells its callee besides the input, carried inside the
//! input (`{"$session": "<id>", "$deadline": {..}, "$traceparent": "00-..", "$input": <input>}`),
//! the one field the platform hands to workers, so SDK endpoints find it wherever they run. An
//! input without any of these keys travels as it is, and so does every input sent to an endpoint
//! declared `plain_input` (a worker written without this SDK).
//!
//! - `$session`: the session the job belongs to (see `crate::session`).
//! - `$traceparent`: the W3C trace context of the call (see [`super::trace_context`]). A value
//!   that is not a valid `traceparent` is ignored, as the recommendation says: the job starts a
//!   new trace.
//! - `$deadline`: when the caller stops waiting, as `{"at_ms": <Unix ms>, "budget_ms": <ms>}`.
//!   The absolute time survives the queue; the budget (what the caller had left when it
//!   submitted) bounds the effect of clock skew: a worker takes the smaller of `at_ms` minus its
//!   own clock and `budget_ms`, so a clock behind the caller's cannot lengthen the deadline, and
//!   one ahead shortens it by the skew (the safe side).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use serde_json::{Map, Value};

use super::trace_context::TraceParent;

/// The envelope key holding a job's session id.
pub const SESSION_KEY: &str = "$session";
/// The envelope key holding the caller's deadline.
pub const DEADLINE_KEY: &str = "$deadline";
/// The envelope key holding the W3C `traceparent` of the call that submitted the job.
pub const TRACEPARENT_KEY: &str = "$traceparent";
/// The envelope key holding a job's input when it has an envelope.
pub const INPUT_KEY: &str = "$input";

/// When a job's caller stops waiting; `{"at_ms": .., "budget_ms": ..}` in the envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Deadline {
    /// The moment, in milliseconds since the Unix epoch on the caller's clock.
    pub at_ms: u64,
    /// What the caller had left when it submitted, in milliseconds.
    pub budget_ms: u64,
}

impl Deadline {
    /// The deadline `remaining` from now.
    pub fn in_(remaining: Duration) -> Self {
        let ms = remaining.as_millis().min(u128::from(u64::MAX)) as u64;
        Deadline {
            at_ms: unix_ms().saturating_add(ms),
            budget_ms: ms,
        }
    }

    /// What is left, on this machine's clock: the smaller of `at_ms` minus now and the budget.
    pub fn remaining(&self) -> Duration {
        let by_clock = self.at_ms.saturating_sub(unix_ms());
        Duration::from_millis(by_clock.min(self.budget_ms))
    }
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// What an envelope says besides the input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobMeta {
    /// The session id.
    pub session: Option<String>,
    /// The caller's deadline.
    pub deadline: Option<Deadline>,
    /// The trace context of the call that submitted the job.
    pub traceparent: Option<TraceParent>,
}

impl JobMeta {
    /// Nothing to say: the input travels as it is.
    pub fn is_empty(&self) -> bool {
        self.session.is_none() && self.deadline.is_none() && self.traceparent.is_none()
    }

    /// Wraps `input` in an envelope holding this (the input itself when there is nothing).
    pub fn wrap(&self, input: Value) -> Value {
        if self.is_empty() {
            return input;
        }
        self.wrapped(&input)
    }

    /// A copy of `input` in an envelope holding this (see [`Wrapped`], the one writer of the
    /// envelope's format).
    pub fn wrapped(&self, input: &Value) -> Value {
        serde_json::to_value(Wrapped { meta: self, input }).expect("JSON values serialize")
    }
}

/// Wraps `input` with a session id.
pub fn wrap(session: &str, input: Value) -> Value {
    JobMeta {
        session: Some(session.to_string()),
        ..JobMeta::default()
    }
    .wrap(input)
}

/// The envelope's fields, when `input` is an envelope.
fn fields(input: &Value) -> Option<&Map<String, Value>> {
    input.as_object().filter(|map| is_envelope(map))
}

/// `$input` and at least one other key, every key known, each value of its type.
fn is_envelope(map: &Map<String, Value>) -> bool {
    let known = |k: &String| {
        k == SESSION_KEY || k == DEADLINE_KEY || k == TRACEPARENT_KEY || k == INPUT_KEY
    };
    map.len() >= 2
        && map.contains_key(INPUT_KEY)
        && map.keys().all(known)
        && map.get(SESSION_KEY).is_none_or(Value::is_string)
        && map.get(DEADLINE_KEY).is_none_or(|d| deadline(d).is_some())
        && map.get(TRACEPARENT_KEY).is_none_or(Value::is_string)
}

fn deadline(v: &Value) -> Option<Deadline> {
    Deadline::deserialize(v).ok()
}

/// What the envelope of `input` says (nothing when it has none).
pub fn meta(input: &Value) -> JobMeta {
    let Some(map) = fields(input) else {
        return JobMeta::default();
    };
    JobMeta {
        session: map
            .get(SESSION_KEY)
            .and_then(Value::as_str)
            .map(str::to_string),
        deadline: map.get(DEADLINE_KEY).and_then(deadline),
        traceparent: map
            .get(TRACEPARENT_KEY)
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok()),
    }
}

/// Splits a job's input into what its envelope says and the input itself (the input as it is
/// when it has no envelope), without copying the input.
pub fn split(input: Value) -> (JobMeta, Value) {
    let meta = meta(&input);
    match input {
        Value::Object(mut map) if is_envelope(&map) => {
            (meta, map.remove(INPUT_KEY).unwrap_or(Value::Null))
        }
        other => (meta, other),
    }
}

/// `input` inside the envelope `meta` says, serialized without building the envelope (the
/// input as it is when `meta` is empty): how a request carries its envelope over HTTP.
pub struct Wrapped<'a> {
    /// What the envelope says.
    pub meta: &'a JobMeta,
    /// The input.
    pub input: &'a Value,
}

impl serde::Serialize for Wrapped<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let meta = self.meta;
        if meta.is_empty() {
            return self.input.serialize(s);
        }
        let mut map = s.serialize_map(None)?;
        if let Some(session) = &meta.session {
            map.serialize_entry(SESSION_KEY, session)?;
        }
        if let Some(d) = &meta.deadline {
            map.serialize_entry(DEADLINE_KEY, d)?;
        }
        if let Some(tp) = &meta.traceparent {
            map.serialize_entry(TRACEPARENT_KEY, &tp.to_string())?;
        }
        map.serialize_entry(INPUT_KEY, self.input)?;
        map.end()
    }
}

/// The input inside its envelope (the input itself when it has none), without copying.
pub fn inner(input: &Value) -> &Value {
    match fields(input) {
        Some(map) => &map[INPUT_KEY],
        None => input,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_envelope_round_trips_and_plain_inputs_pass_through() {
        let wrapped = wrap("s1", json!({"q": 1}));
        let (m, input) = split(wrapped);
        assert_eq!((m.session.as_deref(), input), (Some("s1"), json!({"q": 1})));
        let plain = json!({"$session": "not an envelope", "q": 1, "r": 2});
        assert_eq!(meta(&plain).session, None);
        assert_eq!(split(plain.clone()), (JobMeta::default(), plain));
        assert_eq!(JobMeta::default().wrap(json!(3)), json!(3));
    }

    #[test]
    fn a_deadline_travels_with_or_without_a_session() {
        let d = Deadline {
            at_ms: unix_ms() + 8_000,
            budget_ms: 8_000,
        };
        let meta_in = JobMeta {
            deadline: Some(d),
            ..JobMeta::default()
        };
        let wrapped = meta_in.wrap(json!([1, 2]));
        assert_eq!(meta(&wrapped), meta_in);
        assert_eq!(meta(&wrapped).session, None);
        assert_eq!(inner(&wrapped), &json!([1, 2]));
        let both = JobMeta {
            session: Some("s".into()),
            deadline: Some(d),
            traceparent: None,
        };
        assert_eq!(meta(&both.wrap(json!(1))), both);
        // A malformed deadline is not an envelope: the object is the input.
        let odd = json!({"$deadline": "soon", "$input": 1});
        assert_eq!(inner(&odd), &odd);
    }

    #[test]
    fn a_traceparent_travels_and_a_malformed_one_starts_a_new_trace() {
        use crate::protocol::trace_context::{SpanId, TraceId};
        let tp = TraceParent::new(TraceId::random(), SpanId::random());
        let m = JobMeta {
            traceparent: Some(tp),
            ..JobMeta::default()
        };
        let wrapped = m.wrap(json!({"q": 1}));
        assert_eq!(wrapped["$traceparent"], json!(tp.to_string()));
        assert_eq!(meta(&wrapped), m);
        assert_eq!(split(wrapped), (m, json!({"q": 1})));
        // Still the envelope (its input is unwrapped), but the context is ignored.
        let odd = json!({"$traceparent": "00-nothex", "$input": 2});
        assert_eq!(inner(&odd), &json!(2));
        assert_eq!(meta(&odd).traceparent, None);
    }

    #[test]
    fn an_envelope_serialized_in_place_reads_back_as_the_same_envelope() {
        use crate::protocol::trace_context::{SpanId, TraceId};
        let m = JobMeta {
            session: Some("s".into()),
            deadline: Some(Deadline::in_(Duration::from_secs(9))),
            traceparent: Some(TraceParent::new(TraceId::random(), SpanId::random())),
        };
        let input = json!({"q": [1, 2]});
        let text = serde_json::to_value(Wrapped {
            meta: &m,
            input: &input,
        })
        .unwrap();
        assert_eq!(text, m.wrap(input.clone()));
        assert_eq!(split(text), (m, input.clone()));
        let plain = serde_json::to_value(Wrapped {
            meta: &JobMeta::default(),
            input: &input,
        })
        .unwrap();
        assert_eq!(split(plain), (JobMeta::default(), input));
    }

    #[test]
    fn the_remaining_time_is_bounded_by_the_budget_whatever_the_clocks() {
        let now = unix_ms();
        // This machine's clock is 60 s behind the caller's: the budget still bounds it.
        let ahead = Deadline {
            at_ms: now + 70_000,
            budget_ms: 10_000,
        };
        assert!(ahead.remaining() <= Duration::from_secs(10));
        // Past its moment: nothing is left.
        let past = Deadline {
            at_ms: now.saturating_sub(1_000),
            budget_ms: 10_000,
        };
        assert_eq!(past.remaining(), Duration::ZERO);
        let fresh = Deadline::in_(Duration::from_secs(6));
        assert!(fresh.remaining() <= Duration::from_secs(6));
        assert!(fresh.remaining() > Duration::from_secs(5));
    }
}
