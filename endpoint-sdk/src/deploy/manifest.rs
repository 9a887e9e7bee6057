//! `app manifest`: the whole application (every endpoint with its full configuration, the call
//! graph, the container image) as versioned JSON. `app deploy` turns a manifest into Runpod
//! management API requests.
//!
//! # Schema (version 3)
//!
//! ```text
//! {
//!   "manifest_version": 3,
//!   "app": "<application name: the binary's name unless --app says otherwise>",
//!   "sdk_version": "<endpoint-sdk version>",
//!   "image": "<container image reference>" | null,        (from --image)
//!   "endpoints": [
//!     { "rust_path": "<crate>::<fn>", "config": <EndpointConfig as JSON> }, ...   (sorted by name)
//!   ],
//!   "externals": [                                          (omitted when there are none)
//!     { "name", "api": "openai", "execution_timeout_ms", "id": "<endpoint id>" | null,
//!       "id_from": "<how the id is given>" | null, "url_from": "<how the URL is given>" | null,
//!       "model_from": "<how the model is given>" | null }
//!   ],
//!   "call_graph": {
//!     "edges": [ { "caller": "<name>", "callee": "<name>" }, ... ],  (sorted by caller, callee)
//!     "deploy_order": [ "<name>", ... ]   (every endpoint once, each callee before its callers)
//!   }
//! }
//! ```
//!
//! `config` is [`EndpointConfig`] serialized with serde:
//! `name`, `kind` (`{"type":"queue"}`, or `{"type":"load_balancer","port","health_port",
//! "health_path"}`), `hardware` (`{"kind":"gpu","selection":[{"kind":"type"|"pool"|"any","id":..}],
//! "count","min_cuda_version"}` or `{"kind":"cpu","flavor"}`), `workers` (`{"min","max"}`),
//! `idle_timeout_s`, `execution_timeout_ms`, `concurrency`, `scaler` (`{"kind":"QUEUE_DELAY"|
//! "REQUEST_COUNT","value"}`), `datacenters`, `volumes` (`{"name","size_gb","datacenter"}`), `env`
//! (`{"key","value"}`), `secrets` (names only: values are read from the deployer's environment at
//! deploy time and never written here), `flashboot`, `min_vram_gb`, `interactive`, `calls`
//! (callee names: the edges of `call_graph.edges`, plus any `externals` called), `has_init`,
//! `max_steps`, `allow`.
//!
//! `deploy_order` is a topological order of the call graph, ties broken by name, so that a
//! deployment creates every callee before the callers that need its id. A cycle has no such
//! order: [`Manifest::build`] refuses it.
//!
//! Version history: 1 had `app`, `sdk_version` and `endpoints` only; 2 added the call graph; 3
//! the endpoints' `kind` (queue or load-balancing), and later, as an optional field that older
//! readers ignore, `externals`: the endpoints built elsewhere that `calls = [..]` names
//! (`#[external]`), with the id resolved when the manifest was written. Deploy wires them and
//! never creates them; they are not in the call graph's edges or deploy order.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::config::EndpointConfig;
use crate::handler::EndpointDef;

/// The current manifest schema version.
pub const MANIFEST_VERSION: u32 = 3;

/// The whole application: every endpoint, the call graph between them, the image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Schema version ([`MANIFEST_VERSION`]).
    pub manifest_version: u32,
    /// The application's name. Deployment marks each endpoint with it (`ENDPOINT_APP`), so that
    /// `undeploy` deletes this application's endpoints and no one else's.
    pub app: String,
    /// The SDK version that wrote the manifest.
    pub sdk_version: String,
    /// The container image every endpoint runs (`--image`), if known.
    pub image: Option<String>,
    /// The endpoints, sorted by name.
    pub endpoints: Vec<ManifestEndpoint>,
    /// Endpoints built elsewhere that the endpoints call (`#[external]`), sorted by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub externals: Vec<ManifestExternal>,
    /// Who calls whom, and the order in which to deploy.
    pub call_graph: CallGraph,
}

/// An endpoint built elsewhere (`#[external]`), as deploy wires it into its callers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestExternal {
    /// Its name.
    pub name: String,
    /// The API it speaks (`openai`).
    pub api: String,
    /// The longest one request to it may take.
    pub execution_timeout_ms: Option<u64>,
    /// Its platform endpoint id, as resolved when the manifest was written.
    pub id: Option<String>,
    /// How the attribute gives the id (`"abc123"` or the variables it is read from).
    pub id_from: Option<String>,
    /// How the attribute gives a base URL instead.
    pub url_from: Option<String>,
    /// How the attribute names the model its requests ask for.
    #[serde(default)]
    pub model_from: Option<String>,
}

impl ManifestExternal {
    /// The entry of an external endpoint declared in this binary, with its id as the
    /// environment gives it now.
    pub fn of(spec: &crate::external::ExternalSpec, config: &EndpointConfig) -> Self {
        ManifestExternal {
            name: spec.name.to_string(),
            api: spec.api.as_str().to_string(),
            execution_timeout_ms: config.execution_timeout_ms,
            id: spec.endpoint_id(),
            id_from: spec.id.map(|s| s.describe()),
            url_from: spec.url.map(|s| s.describe()),
            model_from: spec.model.map(|s| s.describe()),
        }
    }
}

/// One endpoint in a manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestEndpoint {
    /// The Rust path of the endpoint's handler.
    pub rust_path: String,
    /// Its configuration.
    pub config: EndpointConfig,
    /// The JSON Schema of its input, when its type has one (see [`crate::schema`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_schema: Option<serde_json::Value>,
    /// The JSON Schema of its output, when its type has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<serde_json::Value>,
    /// The GPU-memory budget of its `model(..)`, line by line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_budget: Option<Vec<String>>,
}

impl ManifestEndpoint {
    /// An endpoint with no schemas.
    pub fn new(rust_path: impl Into<String>, config: EndpointConfig) -> Self {
        ManifestEndpoint {
            rust_path: rust_path.into(),
            gpu_budget: endpoint_config::budget::describe(&config),
            config,
            input_schema: None,
            output_schema: None,
        }
    }
}

/// The calls between endpoints (from each endpoint's `calls = [..]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallGraph {
    /// Every edge caller → callee, sorted.
    pub edges: Vec<CallEdge>,
    /// Every endpoint once, each callee before its callers (ties broken by name).
    pub deploy_order: Vec<String>,
}

/// One edge of the call graph.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CallEdge {
    /// The calling endpoint.
    pub caller: String,
    /// The endpoint it calls.
    pub callee: String,
}

/// Why a manifest cannot be built or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// Two endpoints share a name.
    #[error("two endpoints are named `{0}`; names must be unique in an application")]
    DuplicateName(String),
    /// An endpoint calls one that the application does not have.
    #[error(
        "endpoint `{caller}` calls `{callee}`, which is not in this application; define it with \
         `#[endpoint]` (or declare one built elsewhere with `#[external]`), or remove it from \
         `calls`"
    )]
    UnknownCallee {
        /// The calling endpoint.
        caller: String,
        /// The missing callee.
        callee: String,
    },
    /// The endpoints call each other in a cycle.
    #[error(
        "endpoints call each other in a cycle ({}): a deployment gives each caller the ids of its \
         callees, which must exist first; break the cycle",
        .0.join(" → ")
    )]
    CallCycle(Vec<String>),
    /// The JSON is not a manifest.
    #[error("not a manifest: {0}")]
    Json(String),
    /// The manifest has another schema version.
    #[error(
        "manifest_version {found} is not supported (this SDK reads version {MANIFEST_VERSION}); \
         regenerate it with `app manifest`"
    )]
    Version {
        /// The version found.
        found: u32,
    },
    /// The stored call graph disagrees with the endpoints' `calls`.
    #[error(
        "the manifest's call_graph does not match its endpoints' `calls`; regenerate it with \
         `app manifest`"
    )]
    StaleGraph,
}

impl Manifest {
    /// The manifest of `defs` (e.g. [`crate::registry::endpoints()`]) for application `app`.
    pub fn new(app: impl Into<String>, defs: &[EndpointDef]) -> Result<Self, ManifestError> {
        let externals = crate::external::externals()
            .into_iter()
            .map(|(spec, config)| ManifestExternal::of(spec, config))
            .collect();
        Manifest::build_with(
            app,
            defs.iter()
                .map(|d| {
                    let schemas = d.schemas();
                    ManifestEndpoint {
                        input_schema: schemas.input,
                        output_schema: schemas.output,
                        ..ManifestEndpoint::new(d.rust_path(), d.config.clone())
                    }
                })
                .collect(),
            externals,
        )
    }

    /// The manifest of `endpoints`: sorts them, checks names and callees, computes the call
    /// graph and its deploy order.
    pub fn build(
        app: impl Into<String>,
        endpoints: Vec<ManifestEndpoint>,
    ) -> Result<Self, ManifestError> {
        Manifest::build_with(app, endpoints, Vec::new())
    }

    /// [`Manifest::build`], with endpoints built elsewhere that the endpoints may call.
    pub fn build_with(
        app: impl Into<String>,
        mut endpoints: Vec<ManifestEndpoint>,
        mut externals: Vec<ManifestExternal>,
    ) -> Result<Self, ManifestError> {
        endpoints.sort_by(|a, b| a.config.name.cmp(&b.config.name));
        externals.sort_by(|a, b| a.name.cmp(&b.name));
        let call_graph = CallGraph::of(&endpoints, &externals)?;
        Ok(Manifest {
            manifest_version: MANIFEST_VERSION,
            app: app.into(),
            sdk_version: env!("CARGO_PKG_VERSION").to_string(),
            image: None,
            endpoints,
            externals,
            call_graph,
        })
    }

    /// The same manifest with the container image set.
    pub fn with_image(mut self, image: impl Into<String>) -> Self {
        self.image = Some(image.into());
        self
    }

    /// Reads a manifest, checking its version and that its call graph matches its endpoints.
    pub fn from_json(json: &str) -> Result<Self, ManifestError> {
        #[derive(Deserialize)]
        struct Version {
            manifest_version: u32,
        }
        let v: Version =
            serde_json::from_str(json).map_err(|e| ManifestError::Json(e.to_string()))?;
        if v.manifest_version != MANIFEST_VERSION {
            return Err(ManifestError::Version {
                found: v.manifest_version,
            });
        }
        let m: Manifest =
            serde_json::from_str(json).map_err(|e| ManifestError::Json(e.to_string()))?;
        if CallGraph::of(&m.endpoints, &m.externals)? != m.call_graph {
            return Err(ManifestError::StaleGraph);
        }
        Ok(m)
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a manifest always serializes")
    }

    /// The endpoint named `name`.
    pub fn endpoint(&self, name: &str) -> Option<&ManifestEndpoint> {
        self.endpoints.iter().find(|e| e.config.name == name)
    }

    /// The external endpoints `name` calls.
    pub fn externals_called_by<'a>(
        &'a self,
        name: &'a str,
    ) -> impl Iterator<Item = &'a ManifestExternal> + 'a {
        let calls = self
            .endpoint(name)
            .map(|e| e.config.calls.clone())
            .unwrap_or_default();
        self.externals
            .iter()
            .filter(move |x| calls.iter().any(|c| *c == x.name))
    }

    /// The endpoints in deploy order (callees first).
    pub fn in_deploy_order(&self) -> impl Iterator<Item = &ManifestEndpoint> {
        self.call_graph
            .deploy_order
            .iter()
            .filter_map(|n| self.endpoint(n))
    }
}

impl CallGraph {
    /// The call graph of `endpoints`, with a deploy order (Kahn's algorithm, ties by name).
    /// Calls to `externals` are not edges: they are wired, not deployed.
    pub fn of(
        endpoints: &[ManifestEndpoint],
        externals: &[ManifestExternal],
    ) -> Result<Self, ManifestError> {
        let mut callees: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for e in endpoints {
            let name = e.config.name.as_ref();
            if callees.insert(name, BTreeSet::new()).is_some() {
                return Err(ManifestError::DuplicateName(name.to_string()));
            }
        }
        let names: BTreeSet<&str> = callees.keys().copied().collect();
        for e in endpoints {
            for callee in e.config.calls.iter() {
                if externals.iter().any(|x| x.name == *callee) {
                    continue;
                }
                let callee = names.get(callee.as_ref()).copied().ok_or_else(|| {
                    ManifestError::UnknownCallee {
                        caller: e.config.name.to_string(),
                        callee: callee.to_string(),
                    }
                })?;
                if let Some(set) = callees.get_mut(e.config.name.as_ref()) {
                    set.insert(callee);
                }
            }
        }
        let edges: Vec<CallEdge> = callees
            .iter()
            .flat_map(|(caller, set)| {
                set.iter().map(|callee| CallEdge {
                    caller: caller.to_string(),
                    callee: callee.to_string(),
                })
            })
            .collect();

        // An endpoint is ready once all its callees are placed.
        let mut waiting: BTreeMap<&str, BTreeSet<&str>> = callees.clone();
        let mut order: Vec<String> = Vec::with_capacity(waiting.len());
        loop {
            let ready: Vec<&str> = waiting
                .iter()
                .filter(|(_, deps)| deps.is_empty())
                .map(|(n, _)| *n)
                .collect();
            let Some(next) = ready.first().copied() else {
                break;
            };
            waiting.remove(next);
            for deps in waiting.values_mut() {
                deps.remove(next);
            }
            order.push(next.to_string());
        }
        if !waiting.is_empty() {
            return Err(ManifestError::CallCycle(find_cycle(&waiting)));
        }
        Ok(CallGraph {
            edges,
            deploy_order: order,
        })
    }

    /// The endpoints `name` calls.
    pub fn callees<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.edges
            .iter()
            .filter(move |e| e.caller == name)
            .map(|e| e.callee.as_str())
    }
}

/// A cycle among endpoints that all still wait on a callee: follow callees until one repeats.
fn find_cycle(waiting: &BTreeMap<&str, BTreeSet<&str>>) -> Vec<String> {
    let Some(start) = waiting.keys().next().copied() else {
        return Vec::new();
    };
    let mut path: Vec<&str> = vec![start];
    let mut at = start;
    loop {
        let next = waiting[at]
            .iter()
            .copied()
            .find(|n| waiting.contains_key(n))
            .expect("an endpoint left waiting waits on another one left waiting");
        if let Some(pos) = path.iter().position(|p| *p == next) {
            let mut cycle: Vec<String> = path[pos..].iter().map(|s| s.to_string()).collect();
            cycle.push(next.to_string());
            return cycle;
        }
        path.push(next);
        at = next;
    }
}

/// The application's name: the binary's file name.
pub fn app_name() -> String {
    std::env::args_os()
        .next()
        .map(std::path::PathBuf::from)
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "app".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(name: &str, calls: &[&str]) -> ManifestEndpoint {
        let mut config = EndpointConfig::new(name.to_string());
        config.calls = calls.iter().map(|c| c.to_string().into()).collect();
        ManifestEndpoint::new(format!("app::{name}"), config)
    }

    #[test]
    fn callees_come_before_their_callers_and_ties_go_by_name() {
        let m = Manifest::build(
            "agent",
            vec![
                ep("orchestrator", &["scrape", "embed"]),
                ep("scrape", &[]),
                ep("embed", &["rerank"]),
                ep("rerank", &[]),
            ],
        )
        .unwrap();
        assert_eq!(
            m.call_graph.deploy_order,
            ["rerank", "embed", "scrape", "orchestrator"]
        );
        let edges: Vec<(&str, &str)> = m
            .call_graph
            .edges
            .iter()
            .map(|e| (e.caller.as_str(), e.callee.as_str()))
            .collect();
        assert_eq!(
            edges,
            [
                ("embed", "rerank"),
                ("orchestrator", "embed"),
                ("orchestrator", "scrape")
            ]
        );
        assert_eq!(m.manifest_version, 3);
        assert_eq!(m.image, None);
        let names: Vec<&str> = m.endpoints.iter().map(|e| e.config.name.as_ref()).collect();
        assert_eq!(names, ["embed", "orchestrator", "rerank", "scrape"]);
    }

    #[test]
    fn cycles_unknown_callees_and_duplicates_are_refused() {
        let err =
            Manifest::build("a", vec![ep("a", &["b"]), ep("b", &["a"]), ep("c", &[])]).unwrap_err();
        assert_eq!(
            err,
            ManifestError::CallCycle(vec!["a".into(), "b".into(), "a".into()])
        );
        assert!(err.to_string().contains("(a → b → a)"), "{err}");

        let err = Manifest::build("a", vec![ep("a", &["ghost"])]).unwrap_err();
        assert!(matches!(err, ManifestError::UnknownCallee { .. }), "{err}");
        let err = Manifest::build("a", vec![ep("a", &[]), ep("a", &[])]).unwrap_err();
        assert_eq!(err, ManifestError::DuplicateName("a".into()));
    }

    #[test]
    fn a_manifest_round_trips_and_stale_or_old_ones_are_refused() {
        let m = Manifest::build("agent", vec![ep("o", &["s"]), ep("s", &[])])
            .unwrap()
            .with_image("ghcr.io/acme/agent:1.0.0");
        let json = m.to_json();
        assert!(
            json.contains(r#""image": "ghcr.io/acme/agent:1.0.0""#),
            "{json}"
        );
        assert_eq!(Manifest::from_json(&json).unwrap(), m);

        let mut stale = m.clone();
        stale.call_graph.edges.clear();
        assert_eq!(
            Manifest::from_json(&stale.to_json()).unwrap_err(),
            ManifestError::StaleGraph
        );
        let old = json.replace(r#""manifest_version": 3"#, r#""manifest_version": 2"#);
        assert_eq!(
            Manifest::from_json(&old).unwrap_err(),
            ManifestError::Version { found: 2 }
        );
        assert!(matches!(
            Manifest::from_json("{\"manifest_version\": 3}").unwrap_err(),
            ManifestError::Json(_)
        ));
    }
}
