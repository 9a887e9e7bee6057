//! The `Endpoint` trait: an endpoint as its callers see it (its name, its checked configuration,
//! the types of its input, output and error). `#[endpoint]` implements it on a unit struct named
//! after the handler function; what runs the handler is [`crate::handler::Handler`], one layer up.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::config::EndpointConfig;

/// An endpoint: its name, configuration and types. Implemented by `#[endpoint]` on a unit struct
/// named after the function (`scrape` the function, `scrape` the endpoint type).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an endpoint",
    label = "not an `#[endpoint]` function",
    note = "typed calls take functions annotated with `#[endpoint(..)]`; a load-balancing endpoint (a function returning a `Router`) takes HTTP requests: call it with `name::client(..)`"
)]
pub trait Endpoint: Send + Sync + 'static {
    /// What the handler takes: the job's `input`.
    type Input: Serialize + DeserializeOwned + Send + 'static;
    /// What the handler returns on success: the job's `output`.
    type Output: Serialize + DeserializeOwned + Send + 'static;
    /// The handler's own error type, carried to callers intact.
    type Error: Serialize + DeserializeOwned + fmt::Display + Send + 'static;
    /// What the handler streams while it runs: `T` for a handler taking `Chunks<T>`, and JSON
    /// (`serde_json::Value`, what `Ctx::stream` sends) otherwise.
    type Chunk: Serialize + DeserializeOwned + Send + 'static;

    /// The endpoint's name (`name = ..`, or the function's name).
    const NAME: &'static str;
    /// The endpoint's configuration, checked at compile time.
    const CONFIG: &'static EndpointConfig;
    /// The version of the crate that defines the endpoint (its `CARGO_PKG_VERSION`): the
    /// version tag of its sessions, so a session stored by another build is refused.
    const BUILD: &'static str;

    /// The JSON Schema of its input and output and an example input, as far as its types say
    /// (see [`crate::schema`]). `#[endpoint]` asks the types; nothing by default.
    fn schemas() -> crate::schema::Schemas {
        crate::schema::Schemas::default()
    }
}

/// Any endpoint, queue or load-balancing: its name and checked configuration. What
/// `calls = [..]` names (a caller's callees are wired by name at deploy time, and their
/// timeouts must fit in the caller's). `#[endpoint]` implements it beside [`Endpoint`] or
/// [`LoadBalanced`](crate::LoadBalanced).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an endpoint",
    label = "not an `#[endpoint]` function",
    note = "`calls = [..]` takes functions annotated with `#[endpoint(..)]`"
)]
pub trait AnyEndpoint: Send + Sync + 'static {
    /// The endpoint's name.
    const NAME: &'static str;
    /// The endpoint's configuration, checked at compile time.
    const CONFIG: &'static EndpointConfig;
}

/// The input type of an endpoint whose handler takes no input parameter. It reads any JSON
/// (Runpod drops empty inputs, so callers send `{}` or Flash's `{"__empty": true}`) and writes `{}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoInput;

impl Serialize for NoInput {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        s.serialize_map(Some(0))?.end()
    }
}

impl<'de> Deserialize<'de> for NoInput {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(d).map(|_| NoInput)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for NoInput {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "NoInput".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "object", "description": "No input: send {}." })
    }
}

/// The error type of an endpoint whose handler cannot fail (it returns a value, not a `Result`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NoError {}

impl fmt::Display for NoError {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {}
    }
}

impl std::error::Error for NoError {}
