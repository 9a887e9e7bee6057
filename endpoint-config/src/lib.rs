//! The Runpod Serverless catalog and the endpoint configuration model, with the rules that the
//! `#[endpoint]` attribute enforces at compile time.
//!
//! This crate is one source of truth for the macro (compile time) and the SDK (run time):
//!
//! - [`catalog`]: every GPU type and pool, CPU flavor, data center and CUDA version, as data;
//! - [`EndpointConfig`]: an endpoint's settings, resolved and canonical;
//! - [`Spec`] and [`validate()`]: the settings as written, with spans, and the rules that turn them
//!   into a config while collecting every problem as a [`Diagnostic`];
//! - `parse` (feature `syn`): the attribute's grammar, from tokens to a [`Spec`];
//! - `signature` (feature `syn`): what the handler's signature means, and its rules;
//! - `tokens` (feature `syn`): a config as the `const` expression the macro bakes in;
//! - `report` (feature `syn`): a diagnostic as the tokens that make the compiler show it.
//!
//! Users depend on `endpoint-sdk`, which re-exports what they need from here.
//!
//! ```
//! use endpoint_config::{EndpointConfig, Hardware, Severity};
//!
//! let mut config = EndpointConfig::new("embed");
//! config.hardware = Hardware::Cpu { flavor: "cpu9z-1-1".into() };
//! let problems = config.check();
//! assert_eq!(problems[0].severity, Severity::Error);
//! assert!(problems[0].message.contains("unknown CPU flavor `cpu9z-1-1`"));
//! ```

#![warn(missing_docs)]

pub mod budget;
pub use budget::ModelSpec;
pub mod catalog;
mod diagnostic;
pub mod keys;
mod lint;
mod model;
#[cfg(feature = "syn")]
pub mod parse;
#[cfg(feature = "syn")]
pub mod report;
mod rules;
#[cfg(feature = "syn")]
pub mod signature;
pub mod spec;
mod suggest;
#[cfg(feature = "syn")]
pub mod tokens;
pub mod vars;

pub use diagnostic::{Diagnostic, Diagnostics, Severity};
pub use lint::{Level, Lint};
pub use model::{
    EndpointConfig, EndpointKind, EnvVar, GpuChoice, Hardware, List, LoadBalancer, NetworkVolume,
    Scaler, Text, Workers, defaults, limits,
};
pub use rules::{
    callee_bounded, callee_fits, callee_not_below_message, callee_unbounded_message, group,
    is_valid_name, validate,
};
pub use spec::{Spanned, Spec};
pub use suggest::did_you_mean;
