//! Deployment to Runpod Serverless: the [manifest] of the whole application, the
//! [Dockerfile](mod@dockerfile) of its single image, and the management API requests that make an
//! account match the manifest ([`deploy()`], [`undeploy()`]).
//!
//! # How a config reaches the platform
//!
//! `deploy` speaks Runpod's REST API v2 ([`api`]). Every endpoint is created with its container
//! settings inline (`image`, `env`) rather than through a template: in v2 a template is only a
//! one-time source of those same settings (no link is kept, later template edits do not reach the
//! endpoint), so a template would add a request and a resource to clean up for nothing.
//!
//! | config | request field |
//! |---|---|
//! | `name` | `name` (and `ENDPOINT_NAME` in `env`: which handler the single image serves) |
//! | the app | `env.ENDPOINT_APP`: marks the endpoints `undeploy` may delete |
//! | `gpu = ..` | `gpu.pools` (the pools of every type the selection allows) and `gpu.excludedTypes` (their other members: how one type is pinned, and how `ANY` honours `min_vram_gb`) |
//! | `gpu_count` | `gpu.count` |
//! | `min_cuda_version` | `gpu.minCudaVersion` |
//! | `cpu = "cpu5c-4-8"` | `cpu: [{"id": "cpu5c", "vcpuCount": 4}]` |
//! | `workers = (min, max)`, `idle_timeout` | `workers: {min, max, idleTimeout}` (no `idleTimeout` with `request_count`: the API rejects it) |
//! | `scaler` | `scaling: {"type": "QUEUE_DELAY", "queueDelay"}` / `{"type": "REQUEST_COUNT", "requestCount"}` |
//! | `datacenter` | `dataCenterIds` (without one, the volumes' data centers) |
//! | `volume(..)` | `networkVolumes` (ids; each volume found by name and data center, or created) |
//! | `env(..)` | `env` |
//! | `secrets = [..]` | `env`, values from the deployer's environment (never printed) |
//! | `calls = [..]` | `env.ENDPOINT_ID_<CALLEE>` for each callee, and `env.RUNPOD_API_KEY` (the deployer's) |
//! | `execution_timeout_ms` | `timeout` |
//! | `flashboot` | `flashboot: "FLASHBOOT"` / `"OFF"` |
//!
//! `concurrency`, `max_steps`, `init`, `interactive` and `min_vram_gb` need no field: the binary
//! in the image carries its own config.
//!
//! # Updates
//!
//! Existing endpoints are found by name (`GET /v2/serverless`) and PATCHed with the fields that
//! differ. `workers`, `scaling` and `timeout` apply in place; the image, `env`, the GPU or CPU
//! selection, data centers, volumes and FlashBoot start a rolling release (workers are replaced as
//! they finish their jobs). GPU ↔ CPU, or a load-balancer endpoint of the same name, cannot be
//! PATCHed: the endpoint must be deleted and created again (`--force`), which changes its id.

pub mod api;
mod command;
pub mod cost;
mod desired;
pub mod dockerfile;
pub mod manifest;
pub mod plan;

use std::collections::BTreeMap;

pub use api::{ApiError, ApiRequest, DEFAULT_API_URL, ManagementApi};
pub use command::{DeployArgs, UndeployArgs, run_deploy, run_undeploy};
pub use cost::CostEstimate;
pub use dockerfile::{DockerfileOptions, dockerfile};
pub use manifest::{Manifest, ManifestError};
pub use plan::{AccountState, Action, Change, Effect, Plan, PlanOptions};

/// The variable that marks an endpoint with the application that deployed it.
pub const APP_VAR: &str = "ENDPOINT_APP";

/// The public endpoint API's base, for the URLs printed after a deployment.
const PUBLIC_API: &str = "https://api.runpod.ai/v2";

/// Why a deployment did not happen or stopped.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// The manifest names no image.
    #[error(
        "no container image: build one (`deploy --emit-dockerfile` writes its Dockerfile), push \
         it, and pass `--image <registry>/<name>:<version>`"
    )]
    NoImage,
    /// No API key to send requests with.
    #[error(
        "RUNPOD_API_KEY is not set: export a Runpod API key with read/write access (Settings → \
         API Keys in the Runpod console), or pass --dry-run to see the requests without sending \
         them"
    )]
    NoApiKey,
    /// The application's endpoints do not form a valid manifest.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The plan found problems; nothing was sent.
    #[error("deploy refused, nothing was sent:{}", bullets(.0))]
    Refused(Vec<PlanError>),
    /// A management API request failed.
    #[error("{what} failed ({request}): {source}{}", progress(*.done, *.total))]
    Api {
        /// What was being done.
        what: String,
        /// `METHOD path`.
        request: String,
        /// The API's answer.
        source: Box<ApiError>,
        /// Requests of the plan that had succeeded.
        done: usize,
        /// Requests in the plan (0 while reading the account).
        total: usize,
    },
    /// A request needed an id that was not known (a bug).
    #[error("cannot {0}: an id it needs is not known; this is a bug, please report it")]
    Unresolved(String),
    /// Writing output or a file failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being written.
        context: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// `--emit-dockerfile` would overwrite a different file.
    #[error(
        "{0} exists and differs from the generated Dockerfile: pass --force to overwrite it, or \
         another path (`-` prints it)"
    )]
    DockerfileExists(String),
}

impl DeployError {
    fn api(what: &str, request: &str, source: ApiError) -> Self {
        DeployError::Api {
            what: what.to_string(),
            request: request.to_string(),
            source: Box::new(source),
            done: 0,
            total: 0,
        }
    }
}

fn bullets(problems: &[PlanError]) -> String {
    problems.iter().map(|p| format!("\n  - {p}")).collect()
}

fn progress(done: usize, total: usize) -> String {
    if total == 0 {
        String::new()
    } else {
        format!(
            " ({done} of {total} requests had succeeded; fix the cause and deploy again: it \
             resumes from what exists)"
        )
    }
}

/// A problem found while planning, before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The endpoint's config breaks a rule of the attribute.
    #[error("{endpoint}: {message}")]
    InvalidConfig {
        /// The endpoint.
        endpoint: String,
        /// The rule's message and help.
        message: String,
    },
    /// A secret is not set in the deployer's environment.
    #[error(
        "{endpoint}: secret `{var}` is not set in this environment: export {var}=... before \
         deploying (its value is copied to the endpoint, never written into the manifest)"
    )]
    MissingSecret {
        /// The endpoint.
        endpoint: String,
        /// The variable.
        var: String,
    },
    /// The CPU flavor cannot be expressed in the REST v2 API.
    #[error(
        "{endpoint}: CPU flavor `{flavor}` has {vcpu} vCPU, but Runpod's REST v2 API creates CPU \
         endpoints with a power-of-two vCPU count of at least 2; choose a flavor with 2, 4 or 8 \
         vCPUs, e.g. `{suggestion}`"
    )]
    CpuFlavor {
        /// The endpoint.
        endpoint: String,
        /// The flavor.
        flavor: String,
        /// Its vCPUs.
        vcpu: u32,
        /// The same family's 2-vCPU flavor.
        suggestion: String,
    },
    /// The config sets a variable that deploy sets itself.
    #[error(
        "{endpoint}: `{key}` is set by deploy itself (ENDPOINT_NAME, ENDPOINT_APP, \
         ENDPOINT_ID_<NAME>); rename the variable"
    )]
    ReservedEnv {
        /// The endpoint.
        endpoint: String,
        /// The variable.
        key: String,
    },
    /// Several endpoints of the account have this name.
    #[error(
        "{} endpoints are named `{name}` ({}): deploy cannot tell which one is this app's; delete \
         the extra ones in the Runpod console",
        .ids.len(), .ids.join(", ")
    )]
    AmbiguousName {
        /// The name.
        name: String,
        /// Their ids.
        ids: Vec<String>,
    },
    /// An endpoint of this name exists but another application (or no one) deployed it.
    #[error(
        "endpoint `{name}` ({id}) exists but was not deployed by app `{app}` ({}): deploy does \
         not change it; rename this app's endpoint, or pass --adopt to take it over",
        .owner.as_ref().map_or("it has no ENDPOINT_APP".to_string(), |o| format!("ENDPOINT_APP={o}"))
    )]
    NotOwned {
        /// The name.
        name: String,
        /// Its id.
        id: String,
        /// Its `ENDPOINT_APP`.
        owner: Option<String>,
        /// This application.
        app: String,
    },
    /// The change needs the endpoint deleted and created again.
    #[error(
        "endpoint `{name}` ({id}) must be deleted and created again: {reason}; that gives it a \
         new id and cancels its queued and running jobs; pass --force to do it"
    )]
    NeedsRecreate {
        /// The name.
        name: String,
        /// Its id.
        id: String,
        /// Why.
        reason: String,
    },
}

fn write_line(out: &mut (dyn std::io::Write + Send), text: &str) -> Result<(), DeployError> {
    writeln!(out, "{text}").map_err(|source| DeployError::Io {
        context: "writing the deployment's output".into(),
        source,
    })
}

fn write_text(out: &mut (dyn std::io::Write + Send), text: &str) -> Result<(), DeployError> {
    out.write_all(text.as_bytes())
        .map_err(|source| DeployError::Io {
            context: "writing the deployment's output".into(),
            source,
        })
}

/// How to deploy.
#[derive(Clone, Default)]
pub struct DeployOptions {
    /// The management API's base URL ([`DEFAULT_API_URL`]).
    pub api_url: String,
    /// `RUNPOD_API_KEY`: authenticates the requests, and is given to endpoints that call others.
    /// A dry run without it plans against an empty account.
    pub api_key: Option<String>,
    /// Print the requests instead of sending them.
    pub dry_run: bool,
    /// Delete and re-create endpoints that cannot be updated in place.
    pub force: bool,
    /// Take over same-named endpoints this application did not deploy.
    pub adopt: bool,
}

impl std::fmt::Debug for DeployOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeployOptions")
            .field("api_url", &self.api_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("dry_run", &self.dry_run)
            .field("force", &self.force)
            .field("adopt", &self.adopt)
            .finish()
    }
}

/// What a deployment did (or, for a dry run, would do).
#[derive(Debug, Clone)]
pub struct Deployment {
    /// The plan.
    pub plan: Plan,
    /// Every endpoint's id after the deployment (for a dry run: the ids that already exist).
    pub endpoint_ids: BTreeMap<String, String>,
}

/// Deploys `manifest`: reads the account, plans, prints the plan to `out`, and (unless it is a
/// dry run) sends the requests. `env` looks up the deployer's environment (secrets).
pub async fn deploy(
    manifest: &Manifest,
    opts: &DeployOptions,
    env: &dyn Fn(&str) -> Option<String>,
    out: &mut (dyn std::io::Write + Send),
) -> Result<Deployment, DeployError> {
    if manifest
        .image
        .as_deref()
        .is_none_or(|i| i.trim().is_empty())
    {
        return Err(DeployError::NoImage);
    }
    let api = match (&opts.api_key, opts.dry_run) {
        (Some(key), _) => Some(ManagementApi::new(&opts.api_url, key.clone())),
        (None, true) => None,
        (None, false) => return Err(DeployError::NoApiKey),
    };
    let plan_opts = PlanOptions {
        api_url: opts.api_url.clone(),
        api_key: opts.api_key.clone(),
        force: opts.force,
        adopt: opts.adopt,
    };
    // Problems that do not depend on the account (a missing secret, a config the API cannot
    // take) stop the deployment before any request, even a read.
    Plan::new(manifest, &AccountState::unknown(), &plan_opts, env)?;
    let state = match &api {
        Some(api) => AccountState::read(api).await?,
        None => AccountState::unknown(),
    };
    let plan = Plan::new(manifest, &state, &plan_opts, env)?;
    let existing: BTreeMap<String, String> = plan
        .actions()
        .iter()
        .filter_map(|(name, a)| match a {
            Action::Unchanged { id } | Action::Update { id, .. } => {
                Some((name.clone(), id.clone()))
            }
            Action::Create | Action::Recreate { .. } => None,
        })
        .collect();
    let Some(api) = api.filter(|_| !opts.dry_run) else {
        write_text(out, &plan.render_dry_run())?;
        return Ok(Deployment {
            plan,
            endpoint_ids: existing,
        });
    };

    write_text(out, &plan.render_header())?;
    write_line(out, "")?;
    write_text(out, &plan.render_diff())?;
    let endpoint_ids = if plan.is_noop() {
        write_line(out, "nothing to send: the account already matches")?;
        existing
    } else {
        write_line(out, "sending:")?;
        plan.apply(&api, out).await?
    };
    write_line(out, "")?;
    write_line(out, "endpoints:")?;
    let width = endpoint_ids.keys().map(String::len).max().unwrap_or(0);
    for (name, id) in &endpoint_ids {
        write_line(
            out,
            &format!("  {name:<width$}  {id}  POST {PUBLIC_API}/{id}/run"),
        )?;
    }
    write_line(out, "")?;
    write_text(out, &plan.cost().to_string())?;
    Ok(Deployment { plan, endpoint_ids })
}

/// What `undeploy` deletes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndeployPlan {
    /// The application.
    pub app: String,
    /// `(name, id)` to delete, callers before callees.
    pub deletes: Vec<(String, String)>,
    /// `(name, why)` of endpoints left alone.
    pub skipped: Vec<(String, String)>,
    /// Endpoints of the manifest that the account does not have.
    pub absent: Vec<String>,
}

impl UndeployPlan {
    /// Plans deleting `manifest`'s endpoints from an account in `state`: those with its name that
    /// this application deployed (`ENDPOINT_APP`), or every one of its name with `force`.
    pub fn new(manifest: &Manifest, state: &AccountState, force: bool) -> Self {
        let mut plan = UndeployPlan {
            app: manifest.app.clone(),
            deletes: Vec::new(),
            skipped: Vec::new(),
            absent: Vec::new(),
        };
        for name in manifest.call_graph.deploy_order.iter().rev() {
            let found: Vec<&api::Endpoint> =
                state.endpoints.iter().filter(|e| e.name == *name).collect();
            if found.is_empty() {
                plan.absent.push(name.clone());
            }
            for e in found {
                let owner = e.env.get(APP_VAR);
                if force || owner == Some(&manifest.app) {
                    plan.deletes.push((name.clone(), e.id.clone()));
                } else {
                    plan.skipped.push((
                        name.clone(),
                        format!(
                            "{} was not deployed by app `{}` ({}); --force deletes it anyway",
                            e.id,
                            manifest.app,
                            owner.map_or("no ENDPOINT_APP".to_string(), |o| format!(
                                "ENDPOINT_APP={o}"
                            ))
                        ),
                    ));
                }
            }
        }
        plan
    }

    /// The requests.
    pub fn requests(&self) -> Vec<ApiRequest> {
        self.deletes
            .iter()
            .map(|(_, id)| ApiRequest::delete_endpoint(id))
            .collect()
    }

    /// The plan in words, with the requests.
    pub fn render(&self, api_url: &str, dry_run: bool) -> String {
        let mut out = format!("undeploy app {}:\n", self.app);
        for ((name, id), r) in self.deletes.iter().zip(self.requests()) {
            out.push_str(&format!(
                "  - {name} ({id}): {} {}{}\n",
                r.method,
                api_url.trim_end_matches('/'),
                r.path
            ));
        }
        for (name, why) in &self.skipped {
            out.push_str(&format!("  = {name}: left alone: {why}\n"));
        }
        for name in &self.absent {
            out.push_str(&format!("  = {name}: not deployed\n"));
        }
        out.push_str(
            "network volumes are kept (they hold data); delete them in the Runpod console if \
             they are no longer needed\n",
        );
        if dry_run {
            out.push_str("dry run: nothing was sent\n");
        }
        out
    }
}

/// Deletes `manifest`'s endpoints (see [`UndeployPlan::new`]); with `dry_run`, only prints the
/// requests. Needs the API key even for a dry run: it reads the account to find the ids.
pub async fn undeploy(
    manifest: &Manifest,
    api: &ManagementApi,
    dry_run: bool,
    force: bool,
    out: &mut (dyn std::io::Write + Send),
) -> Result<UndeployPlan, DeployError> {
    let state = AccountState::read(api).await?;
    let plan = UndeployPlan::new(manifest, &state, force);
    write_text(out, &plan.render(api.base(), dry_run))?;
    if dry_run {
        return Ok(plan);
    }
    let total = plan.deletes.len();
    for (done, ((name, id), req)) in plan.deletes.iter().zip(plan.requests()).enumerate() {
        api.send(&req).await.map_err(|source| DeployError::Api {
            what: format!("deleting endpoint {name} ({id})"),
            request: req.line(),
            source: Box::new(source),
            done,
            total,
        })?;
        write_line(out, &format!("  deleted {name} ({id})"))?;
    }
    Ok(plan)
}
