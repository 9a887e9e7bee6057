//! What an endpoint's input and output look like, as JSON Schema, when its types say: the
//! manifest carries them and `app dev`'s dashboard shapes its form from them.
//!
//! A type describes itself by implementing [`schemars::JsonSchema`] (`#[derive(JsonSchema)]`;
//! Rust's own types already do) with the SDK's `schema` feature on. `#[endpoint]` asks each
//! input and output type without requiring it: a type that does not implement the trait simply
//! has no schema. An input type that implements `Default` also gives an example (its default
//! value), which the dashboard's form starts from when there is no schema.
//!
//! ```
//! # #[cfg(feature = "schema")] {
//! use endpoint_sdk::prelude::*;
//! use endpoint_sdk::schemars::{self, JsonSchema};
//!
//! #[derive(serde::Serialize, serde::Deserialize, JsonSchema, Default)]
//! pub struct Question {
//!     /// What to research.
//!     pub topic: String,
//!     pub depth: u8,
//! }
//!
//! #[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 10_000)]
//! async fn research(q: Question) -> String {
//!     q.topic
//! }
//!
//! /// Several parameters make an object with one property each.
//! #[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 10_000)]
//! async fn add(a: i64, b: i64) -> i64 {
//!     a + b
//! }
//!
//! use endpoint_sdk::Endpoint;
//! let schemas = <research as Endpoint>::schemas();
//! assert_eq!(schemas.input.unwrap()["properties"]["depth"]["type"], "integer");
//! assert_eq!(schemas.output.unwrap()["type"], "string");
//! assert_eq!(schemas.example.unwrap(), serde_json::json!({"topic": "", "depth": 0}));
//! let schemas = <add as Endpoint>::schemas();
//! assert_eq!(schemas.input.unwrap()["required"], serde_json::json!(["a", "b"]));
//! assert_eq!(schemas.example.unwrap(), serde_json::json!({"a": 0, "b": 0}));
//! # }
//! ```

use std::marker::PhantomData;

use serde::Serialize;
use serde_json::{Map, Value};

/// An endpoint's input and output schemas, and an example input, as far as its types say.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Schemas {
    /// The input's JSON Schema.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
    /// The output's JSON Schema.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// An example input (the input type's `Default`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub example: Option<Value>,
}

impl Schemas {
    /// Whether the types said nothing.
    pub fn is_empty(&self) -> bool {
        self.input.is_none() && self.output.is_none() && self.example.is_none()
    }
}

/// Asks type `T` what it can say about itself. `(&Probe::<T>::new()).schema()` picks
/// [`ViaJsonSchema`] when `T` implements `JsonSchema` and [`ViaNothing`] otherwise (method
/// resolution tries `&Probe<T>` before `&&Probe<T>`); the same for `example`. Used by the code
/// `#[endpoint]` generates, where `T` is a concrete type.
#[doc(hidden)]
pub struct Probe<T: ?Sized>(PhantomData<fn() -> T>);

impl<T: ?Sized> Probe<T> {
    #[doc(hidden)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Probe(PhantomData)
    }
}

/// A type with a JSON Schema.
#[doc(hidden)]
pub trait ViaJsonSchema {
    fn schema(&self) -> Option<Value>;
}

#[cfg(feature = "schema")]
impl<T: schemars::JsonSchema + ?Sized> ViaJsonSchema for Probe<T> {
    fn schema(&self) -> Option<Value> {
        serde_json::to_value(schemars::schema_for!(T)).ok()
    }
}

/// A type without one.
#[doc(hidden)]
pub trait ViaNothing {
    fn schema(&self) -> Option<Value>;
}

impl<T: ?Sized> ViaNothing for &Probe<T> {
    fn schema(&self) -> Option<Value> {
        None
    }
}

/// A type whose default value is an example.
#[doc(hidden)]
pub trait ExampleViaDefault {
    fn example(&self) -> Option<Value>;
}

impl<T: Default + Serialize> ExampleViaDefault for Probe<T> {
    fn example(&self) -> Option<Value> {
        serde_json::to_value(T::default()).ok()
    }
}

/// A type without an example.
#[doc(hidden)]
pub trait ExampleViaNothing {
    fn example(&self) -> Option<Value>;
}

impl<T: ?Sized> ExampleViaNothing for &Probe<T> {
    fn example(&self) -> Option<Value> {
        None
    }
}

/// The schema of the input `#[endpoint]` makes of several parameters: an object with one
/// required property per parameter, if every parameter's type has a schema.
#[doc(hidden)]
pub fn object(fields: Vec<(&str, Option<Value>)>) -> Option<Value> {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for (name, schema) in fields {
        let mut schema = schema?;
        // Each field's schema is a root schema of its own: its `$schema` is noise inside, and
        // its definitions would not resolve from there.
        if let Value::Object(map) = &mut schema {
            map.remove("$schema");
            if map.contains_key("$defs") {
                return None;
            }
        }
        required.push(Value::String(name.to_string()));
        properties.insert(name.to_string(), schema);
    }
    Some(serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": properties,
        "required": required,
    }))
}

/// The example of the input `#[endpoint]` makes of several parameters, if every parameter's
/// type gives one.
#[doc(hidden)]
pub fn example_object(fields: Vec<(&str, Option<Value>)>) -> Option<Value> {
    fields
        .into_iter()
        .map(|(name, v)| v.map(|v| (name.to_string(), v)))
        .collect::<Option<Map<String, Value>>>()
        .map(Value::Object)
}

// The borrow is what picks the fallback for a type without the trait (see `Probe`).
#[cfg(test)]
#[allow(clippy::needless_borrow)]
mod tests {
    use super::*;

    struct Opaque;

    #[test]
    fn a_type_without_a_schema_or_default_says_nothing() {
        assert_eq!((&Probe::<Opaque>::new()).schema(), None);
        assert_eq!((&Probe::<Opaque>::new()).example(), None);
        assert_eq!((&Probe::<u32>::new()).example(), Some(serde_json::json!(0)));
    }

    #[cfg(feature = "schema")]
    #[test]
    fn a_type_with_a_schema_gives_it_and_parameters_make_an_object() {
        let n = (&Probe::<u32>::new()).schema().unwrap();
        assert_eq!(n["type"], "integer");
        let o = object(vec![
            ("a", (&Probe::<String>::new()).schema()),
            ("b", Some(n)),
        ])
        .unwrap();
        assert_eq!(o["properties"]["a"]["type"], "string");
        assert_eq!(o["required"], serde_json::json!(["a", "b"]));
        assert!(o["properties"]["a"].get("$schema").is_none());
        assert_eq!(object(vec![("a", None)]), None);
    }
}
