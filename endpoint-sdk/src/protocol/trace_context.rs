//! W3C Trace Context (<https://www.w3.org/TR/trace-context/>): the `traceparent` a call hands its
//! callee, `00-<trace id: 32 hex>-<parent span id: 16 hex>-<flags: 2 hex>`, so that the jobs of
//! one request form one trace wherever they run. It travels inside the job's input envelope
//! (`$traceparent`, see [`super::envelope`]), because the platform hands workers the input and
//! nothing else of the request.
//!
//! ```
//! use endpoint_sdk::protocol::trace_context::{SpanId, TraceId, TraceParent};
//!
//! let tp: TraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse().unwrap();
//! assert_eq!(tp.trace_id.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
//! assert_eq!(tp.parent_id, SpanId::from_hex("00f067aa0ba902b7").unwrap());
//! assert!(tp.sampled);
//! assert_eq!(tp.to_string(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
//! assert!("00-00000000000000000000000000000000-00f067aa0ba902b7-01".parse::<TraceParent>().is_err());
//! assert_ne!(TraceId::random(), TraceId::random());
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::hex::{self, Hex};

/// A trace's id: 16 bytes, never all zero.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TraceId(u128);

/// A span's id: 8 bytes, never all zero.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpanId(u64);

/// A `traceparent`: the trace a job belongs to and the span (the caller's call) it descends from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent {
    /// The trace.
    pub trace_id: TraceId,
    /// The caller's span: the call that submitted the job.
    pub parent_id: SpanId,
    /// The caller's sampling decision (flag `01`).
    pub sampled: bool,
}

/// Why a `traceparent` was not understood (W3C: the callee then starts a new trace).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{value}` is not a W3C traceparent: expected `00-<32 lowercase hex>-<16 lowercase hex>-<2 hex>` \
     with non-zero ids"
)]
pub struct TraceParentError {
    /// The value as received (cut to 80 characters).
    pub value: String,
}

impl TraceId {
    /// A fresh random trace id.
    pub fn random() -> Self {
        loop {
            let v = fastrand::u128(..);
            if v != 0 {
                return TraceId(v);
            }
        }
    }

    /// Parses 32 lowercase hex digits (not all zero).
    pub fn from_hex(s: &str) -> Option<Self> {
        nonzero_hex(s, 32).map(TraceId)
    }

    /// Its 16 bytes, most significant first (as its hex digits read; what OpenTelemetry takes).
    pub fn to_bytes(self) -> [u8; 16] {
        self.0.to_be_bytes()
    }
}

impl SpanId {
    /// A fresh random span id.
    pub fn random() -> Self {
        loop {
            let v = fastrand::u64(..);
            if v != 0 {
                return SpanId(v);
            }
        }
    }

    /// Parses 16 lowercase hex digits (not all zero).
    pub fn from_hex(s: &str) -> Option<Self> {
        nonzero_hex(s, 16).map(|v| SpanId(v as u64))
    }

    /// Its 8 bytes, most significant first (as its hex digits read; what OpenTelemetry takes).
    pub fn to_bytes(self) -> [u8; 8] {
        self.0.to_be_bytes()
    }
}

impl TraceParent {
    /// The context a call made in span `parent_id` of trace `trace_id` hands its callee (sampled).
    pub fn new(trace_id: TraceId, parent_id: SpanId) -> Self {
        TraceParent {
            trace_id,
            parent_id,
            sampled: true,
        }
    }
}

/// Exactly `digits` lowercase hex digits, not all zero (W3C's rule for both ids).
fn nonzero_hex(s: &str, digits: usize) -> Option<u128> {
    (s.len() == digits)
        .then(|| hex::read(s.as_bytes()))
        .flatten()
        .filter(|v| *v != 0)
}

fn is_lower_hex(s: &str) -> bool {
    hex::read(s.as_bytes()).is_some()
}

impl FromStr for TraceParent {
    type Err = TraceParentError;

    /// Parses as the W3C recommendation says: version `00` is exactly four fields; a later
    /// version (not `ff`) may add fields after the fourth, which are ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || TraceParentError {
            value: s.chars().take(80).collect(),
        };
        let mut parts = s.split('-');
        let (Some(version), Some(trace), Some(parent), Some(flags)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(err());
        };
        let later = parts.next().is_some();
        let version_ok = version.len() == 2 && is_lower_hex(version) && version != "ff";
        if !version_ok || (version == "00" && later) || flags.len() != 2 || !is_lower_hex(flags) {
            return Err(err());
        }
        let flags = u8::from_str_radix(flags, 16).map_err(|_| err())?;
        Ok(TraceParent {
            trace_id: TraceId::from_hex(trace).ok_or_else(err)?,
            parent_id: SpanId::from_hex(parent).ok_or_else(err)?,
            sampled: flags & 1 == 1,
        })
    }
}

impl fmt::Display for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = *b"00-00000000000000000000000000000000-0000000000000000-00";
        hex::write(&mut buf[3..35], self.trace_id.0);
        hex::write(&mut buf[36..52], u128::from(self.parent_id.0));
        buf[54] = if self.sampled { b'1' } else { b'0' };
        f.write_str(std::str::from_utf8(&buf).unwrap_or_default())
    }
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Hex::<32>::new(self.0).as_str())
    }
}

impl fmt::Debug for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceId({self})")
    }
}

impl fmt::Display for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Hex::<16>::new(u128::from(self.0)).as_str())
    }
}

impl fmt::Debug for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SpanId({self})")
    }
}

/// Serialized as its hex string, as logs and OpenTelemetry show it.
macro_rules! hex_serde {
    ($t:ty, $what:literal) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                <$t>::from_hex(&s)
                    .ok_or_else(|| serde::de::Error::custom(format!("`{s}` is not a {}", $what)))
            }
        }
    };
}

hex_serde!(TraceId, "trace id (32 lowercase hex digits, not all zero)");
hex_serde!(SpanId, "span id (16 lowercase hex digits, not all zero)");

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_traceparent_round_trips_and_keeps_its_sampling_flag() {
        let tp: TraceParent = GOOD.parse().unwrap();
        assert_eq!(tp.to_string(), GOOD);
        let unsampled: TraceParent = GOOD.replace("-01", "-00").parse().unwrap();
        assert!(!unsampled.sampled);
        let fresh = TraceParent::new(TraceId::random(), SpanId::random());
        assert_eq!(fresh.to_string().parse::<TraceParent>().unwrap(), fresh);
    }

    #[test]
    fn malformed_traceparents_are_refused_as_the_recommendation_says() {
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
        ] {
            let e = bad.parse::<TraceParent>().unwrap_err();
            assert!(e.to_string().contains("not a W3C traceparent"), "{e}");
        }
        // A later version may carry more fields; the first four are read.
        let later = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-comes";
        assert!(later.parse::<TraceParent>().is_ok());
    }

    #[test]
    fn ids_serialize_as_hex_strings() {
        let id = TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"4bf92f3577b34da6a3ce929d0e0e4736\"");
        assert_eq!(serde_json::from_str::<TraceId>(&json).unwrap(), id);
        let err = serde_json::from_str::<SpanId>("\"xyz\"").unwrap_err();
        assert!(err.to_string().contains("not a span id"), "{err}");
    }
}
