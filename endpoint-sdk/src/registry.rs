//! Every endpoint the binary contains, collected at link time: `#[endpoint]` submits a
//! [`Registration`] with `inventory`, and the runtime lists them without any setup code.
//!
//! Registration relies on the linker keeping the endpoint's code: an endpoint defined in a
//! library crate is registered as long as the binary links something from that crate (with
//! rustc ≥ 1.62, any use of the crate suffices).

use std::collections::BTreeMap;

use crate::handler::{EndpointDef, Handler, LoadBalanced};

/// One endpoint's entry in the link-time registry. Created by `#[endpoint]`.
#[doc(hidden)]
pub struct Registration {
    def: fn() -> EndpointDef,
}

impl Registration {
    /// The registration of queue endpoint `E`.
    pub const fn of<E: Handler>() -> Self {
        Registration {
            def: EndpointDef::of::<E>,
        }
    }

    /// The registration of load-balancing endpoint `E`.
    pub const fn app<E: LoadBalanced>() -> Self {
        Registration {
            def: EndpointDef::app_of::<E>,
        }
    }
}

inventory::collect!(Registration);

/// The registry is inconsistent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// Two endpoints share a name; names must be unique per binary.
    #[error(
        "two endpoints are named `{name}`: `{first}` and `{second}`; give one of them another \
         `name = \"..\"`"
    )]
    DuplicateName {
        /// The shared name.
        name: String,
        /// One endpoint's Rust path.
        first: String,
        /// The other's.
        second: String,
    },
    /// The binary holds no endpoint at all.
    #[error("{}", NO_ENDPOINT)]
    Empty,
    /// An endpoint calls one that is not in this binary.
    #[error(
        "endpoint `{caller}` calls `{callee}`, which is not in this binary; define it with \
         `#[endpoint]` (or declare one built elsewhere with `#[external]`), or remove it from \
         `calls`"
    )]
    UnknownCallee {
        /// The calling endpoint.
        caller: String,
        /// The missing callee.
        callee: String,
    },
}

/// What to do when the binary holds no endpoint.
pub(crate) const NO_ENDPOINT: &str = "this binary has no endpoint: annotate a handler with \
     `#[endpoint(..)]`; if your endpoints are defined in a library crate, the binary must use \
     that crate (`use my_endpoints as _;` in main.rs), or the linker leaves them out";

/// Every registered endpoint, sorted by name.
pub fn endpoints() -> Vec<EndpointDef> {
    let mut all: Vec<EndpointDef> = inventory::iter::<Registration>
        .into_iter()
        .map(|r| (r.def)())
        .collect();
    all.sort_by(|a, b| {
        a.name()
            .cmp(b.name())
            .then(a.rust_path().cmp(b.rust_path()))
    });
    all
}

/// The registered endpoint named `name`.
pub fn find(name: &str) -> Option<EndpointDef> {
    inventory::iter::<Registration>
        .into_iter()
        .map(|r| (r.def)())
        .find(|d| d.name() == name)
}

/// Checks a set of definitions: unique names, every callee present.
pub fn check(defs: &[EndpointDef]) -> Result<(), RegistryError> {
    let mut by_name: BTreeMap<&str, &EndpointDef> = BTreeMap::new();
    for d in defs {
        if let Some(first) = by_name.insert(d.name(), d) {
            return Err(RegistryError::DuplicateName {
                name: d.name().to_string(),
                first: first.rust_path().to_string(),
                second: d.rust_path().to_string(),
            });
        }
    }
    for d in defs {
        for callee in d.config.calls.iter() {
            if !by_name.contains_key(callee.as_ref()) && crate::external::find(callee).is_none() {
                return Err(RegistryError::UnknownCallee {
                    caller: d.name().to_string(),
                    callee: callee.to_string(),
                });
            }
        }
    }
    Ok(())
}
