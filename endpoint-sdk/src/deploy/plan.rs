//! From a manifest and what the account already has, to the management API requests that make
//! the account match: create what is missing, PATCH what changed (only the changed fields),
//! leave the rest alone. Every refusal (a missing secret, an ambiguous name, a change that needs
//! the endpoint recreated without `--force`) is found here, before anything is sent.

use std::collections::BTreeMap;

use super::cost::CostEstimate;
use super::desired::{Context, Desired, Fields, desire};
use super::diff::{Change, diff, recreate_reason};
use super::error::{DeployError, PlanError};
use super::management::{ApiRequest, ManagementApi};
use super::manifest::Manifest;
use super::output::write_line;
use super::remote::{CreateVolumeRequest, RemoteEndpoint, RemoteVolume, UpdateVolumeRequest};
use super::resolve::{Creates, Ids, Resolve, Secrets};
use super::volume::{VolumeAction, VolumeKey, plan_volumes};
use crate::config::{GpuChoice, Hardware, catalog};
use crate::protocol::vars::{ENDPOINT_APP, RUNPOD_API_KEY};

/// What the account has: its endpoints and network volumes.
#[derive(Debug, Clone, Default)]
pub struct AccountState {
    /// Every serverless endpoint.
    pub endpoints: Vec<RemoteEndpoint>,
    /// Every network volume.
    pub volumes: Vec<RemoteVolume>,
    /// Whether this was read from the API (`false`: assumed empty, for a dry run without a key).
    pub read: bool,
}

impl AccountState {
    /// Nothing known: everything is planned as new.
    pub fn unknown() -> Self {
        AccountState::default()
    }

    /// Reads the account (`GET /v2/serverless`, `GET /v2/network-volumes`).
    pub async fn read(api: &ManagementApi) -> Result<Self, DeployError> {
        let endpoints = api.list_endpoints().await.map_err(|e| {
            DeployError::api("reading the account's endpoints", "GET /v2/serverless", e)
        })?;
        let volumes = api.list_volumes().await.map_err(|e| {
            DeployError::api(
                "reading the account's network volumes",
                "GET /v2/network-volumes",
                e,
            )
        })?;
        Ok(AccountState {
            endpoints,
            volumes,
            read: true,
        })
    }
}

/// How to plan.
#[derive(Clone, Default)]
pub struct PlanOptions {
    /// The management API's base URL (printed with the requests).
    pub api_url: String,
    /// The deployer's `RUNPOD_API_KEY`: given to endpoints that call others, so their typed calls
    /// authenticate. Never printed.
    pub api_key: Option<String>,
    /// Delete and re-create endpoints whose compute family or type changed.
    pub force: bool,
    /// Take over same-named endpoints that this application did not deploy.
    pub adopt: bool,
}

impl std::fmt::Debug for PlanOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlanOptions")
            .field("api_url", &self.api_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("force", &self.force)
            .field("adopt", &self.adopt)
            .finish()
    }
}

/// What deployment does to one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// It does not exist: create it.
    Create,
    /// It exists and matches.
    Unchanged {
        /// Its id.
        id: String,
    },
    /// It exists and differs: PATCH the changed fields.
    Update {
        /// Its id.
        id: String,
        /// What changes.
        changes: Vec<Change>,
    },
    /// It exists but cannot be changed into the new config: delete it and create it again
    /// (`--force`).
    Recreate {
        /// Its current id.
        id: String,
        /// Why.
        reason: String,
    },
}

/// One request of the plan, with ids not known yet left symbolic.
#[derive(Debug, Clone)]
pub(super) enum Step {
    CreateVolume {
        key: VolumeKey,
        size_gb: u32,
    },
    GrowVolume {
        id: String,
        key: VolumeKey,
        size_gb: u32,
    },
    CreateEndpoint {
        desired: usize,
    },
    UpdateEndpoint {
        desired: usize,
        id: String,
        fields: Fields,
    },
    DeleteEndpoint {
        name: String,
        id: String,
    },
}

/// Everything `deploy` will do, computed before anything is sent.
#[derive(Debug, Clone)]
pub struct Plan {
    pub(super) app: String,
    pub(super) image: String,
    pub(super) api_url: String,
    pub(super) state_read: bool,
    pub(super) desired: Vec<Desired>,
    pub(super) actions: Vec<(String, Action)>,
    pub(super) volume_actions: Vec<(VolumeKey, u32, VolumeAction)>,
    pub(super) steps: Vec<Step>,
    pub(super) known: Ids,
    pub(super) secrets: Secrets,
    pub(super) notes: Vec<String>,
    pub(super) cost: CostEstimate,
}

/// A plan being built: what every step so far needs, and every problem found.
struct Builder<'a> {
    manifest: &'a Manifest,
    opts: &'a PlanOptions,
    known: Ids,
    secrets: Secrets,
    steps: Vec<Step>,
    actions: Vec<(String, Action)>,
    problems: Vec<PlanError>,
    notes: Vec<String>,
}

impl Builder<'_> {
    /// Each endpoint's desired state, callees first.
    fn desire_all(&mut self, image: &str, env: &dyn Fn(&str) -> Option<String>) -> Vec<Desired> {
        let mut desired = Vec::new();
        for m in self.manifest.in_deploy_order() {
            let callees: Vec<&str> = self.manifest.call_graph.callees(&m.config.name).collect();
            let externals: Vec<_> = self.manifest.externals_called_by(&m.config.name).collect();
            for x in externals
                .iter()
                .filter(|x| x.id.is_none() && x.url_from.is_some())
            {
                self.notes.push(format!(
                    "{}: calls `{}` (built elsewhere) at the URL in {}; give the endpoint that \
                     variable with `env(..)` or `secrets = [..]`",
                    m.config.name,
                    x.name,
                    x.url_from.as_deref().unwrap_or_default()
                ));
            }
            let cx = Context {
                app: &self.manifest.app,
                image,
                callees: &callees,
                externals: &externals,
                env,
            };
            if let Some(d) = desire(
                &cx,
                m,
                &mut self.secrets,
                &mut self.problems,
                &mut self.notes,
            ) {
                desired.push(d);
            }
        }
        if desired.iter().any(|d| d.env.contains_key(RUNPOD_API_KEY)) && self.opts.api_key.is_none()
        {
            self.notes.push(
                "RUNPOD_API_KEY is not set: a real deploy needs it, to authenticate and to give \
                 the endpoints that call others a key for their calls"
                    .to_string(),
            );
        }
        desired
    }

    /// The volumes' steps; existing volumes' ids become known.
    fn volumes(&mut self, state: &AccountState) -> Vec<(VolumeKey, u32, VolumeAction)> {
        let actions = plan_volumes(self.manifest, &state.volumes, &mut self.notes);
        for (key, size_gb, action) in &actions {
            if let Some(id) = action.id() {
                self.known.volumes.insert(key.clone(), id.to_string());
            }
            let (key, size_gb) = (key.clone(), *size_gb);
            match action {
                VolumeAction::Create => self.steps.push(Step::CreateVolume { key, size_gb }),
                VolumeAction::Grow { id, .. } => self.steps.push(Step::GrowVolume {
                    id: id.clone(),
                    key,
                    size_gb,
                }),
                VolumeAction::Exists { .. } => {}
            }
        }
        actions
    }

    /// What happens to desired endpoint `i` (`d`), given the account's endpoints. Callees come
    /// first: a callee's id is known (it exists and keeps its id) or it is created before its
    /// callers.
    fn endpoint(&mut self, i: usize, d: &Desired, state: &AccountState) {
        let found: Vec<&RemoteEndpoint> = state
            .endpoints
            .iter()
            .filter(|e| e.name == d.name)
            .collect();
        let e = match found.as_slice() {
            [] => {
                self.steps.push(Step::CreateEndpoint { desired: i });
                self.actions.push((d.name.clone(), Action::Create));
                return;
            }
            [e] => *e,
            many => {
                self.problems.push(PlanError::AmbiguousName {
                    name: d.name.clone(),
                    ids: many.iter().map(|e| e.id.clone()).collect(),
                });
                return;
            }
        };
        let app = &self.manifest.app;
        let owner = e.env.get(ENDPOINT_APP);
        if owner != Some(app) && !self.opts.adopt {
            self.problems.push(PlanError::NotOwned {
                name: d.name.clone(),
                id: e.id.clone(),
                owner: owner.cloned(),
                app: app.clone(),
            });
            return;
        }
        if let Some(reason) = recreate_reason(d, e) {
            self.recreate(i, d, e, reason);
            return;
        }
        let live = Resolve::Live {
            ids: &self.known,
            secrets: &self.secrets,
        };
        let (fields, changes) = diff(d, e, &live);
        let id = e.id.clone();
        if changes.is_empty() {
            self.actions
                .push((d.name.clone(), Action::Unchanged { id }));
        } else {
            self.steps.push(Step::UpdateEndpoint {
                desired: i,
                id: id.clone(),
                fields,
            });
            self.actions
                .push((d.name.clone(), Action::Update { id, changes }));
        }
        self.known.endpoints.insert(d.name.clone(), e.id.clone());
    }

    /// An endpoint that cannot be PATCHed: deleted and created again with `--force`, refused
    /// without.
    fn recreate(&mut self, i: usize, d: &Desired, e: &RemoteEndpoint, reason: String) {
        let (name, id) = (d.name.clone(), e.id.clone());
        if !self.opts.force {
            self.problems
                .push(PlanError::NeedsRecreate { name, id, reason });
            return;
        }
        self.steps.push(Step::DeleteEndpoint {
            name: name.clone(),
            id: id.clone(),
        });
        self.steps.push(Step::CreateEndpoint { desired: i });
        self.actions.push((name, Action::Recreate { id, reason }));
    }
}

impl Plan {
    /// Plans the deployment of `manifest` onto an account in `state`. `env` looks up the
    /// deployer's environment (the values of `secrets = [..]`). Every problem is collected and
    /// returned at once as [`DeployError::Refused`].
    pub fn new(
        manifest: &Manifest,
        state: &AccountState,
        opts: &PlanOptions,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Plan, DeployError> {
        let image = manifest
            .image
            .clone()
            .filter(|i| !i.trim().is_empty())
            .ok_or(DeployError::NoImage)?;
        let mut b = Builder {
            manifest,
            opts,
            known: Ids::default(),
            secrets: Secrets {
                by_var: BTreeMap::new(),
                api_key: opts.api_key.clone(),
            },
            steps: Vec::new(),
            actions: Vec::new(),
            problems: Vec::new(),
            notes: Vec::new(),
        };
        image_notes(&image, &mut b.notes);
        budget_notes(manifest, &mut b.notes);
        let desired = b.desire_all(&image, env);
        let volume_actions = b.volumes(state);
        for (i, d) in desired.iter().enumerate() {
            b.endpoint(i, d, state);
        }
        if !b.problems.is_empty() {
            return Err(DeployError::Refused(b.problems));
        }
        Ok(Plan {
            app: manifest.app.clone(),
            image,
            api_url: opts.api_url.trim_end_matches('/').to_string(),
            state_read: state.read,
            desired,
            actions: b.actions,
            volume_actions,
            steps: b.steps,
            known: b.known,
            secrets: b.secrets,
            notes: b.notes,
            cost: CostEstimate::of(manifest),
        })
    }

    /// What happens to each endpoint, in deploy order.
    pub fn actions(&self) -> &[(String, Action)] {
        &self.actions
    }

    /// What happens to each network volume, with its configured size.
    pub fn volume_actions(&self) -> &[(VolumeKey, u32, VolumeAction)] {
        &self.volume_actions
    }

    /// Warnings worth reading (nothing that stops the deployment).
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The cost estimate.
    pub fn cost(&self) -> &CostEstimate {
        &self.cost
    }

    /// Whether the account already matches.
    pub fn is_noop(&self) -> bool {
        self.steps.is_empty()
    }

    fn created_by(&self) -> BTreeMap<Creates, usize> {
        let mut out = BTreeMap::new();
        for (i, s) in self.steps.iter().enumerate() {
            match s {
                Step::CreateVolume { key, .. } => {
                    out.insert(Creates::Volume(key.clone()), i + 1);
                }
                Step::CreateEndpoint { desired } => {
                    out.insert(
                        Creates::Endpoint(self.desired[*desired].name.clone()),
                        i + 1,
                    );
                }
                _ => {}
            }
        }
        out
    }

    fn request(&self, step: &Step, r: &Resolve) -> Option<ApiRequest> {
        Some(match step {
            Step::CreateVolume { key, size_gb } => {
                ApiRequest::create_volume(&CreateVolumeRequest {
                    name: key.name.clone(),
                    size: *size_gb,
                    data_center: key.datacenter.clone(),
                })
            }
            Step::GrowVolume { id, size_gb, .. } => {
                ApiRequest::update_volume(id, &UpdateVolumeRequest { size: *size_gb })
            }
            Step::CreateEndpoint { desired } => {
                ApiRequest::create_endpoint(&self.desired[*desired].create(r)?)
            }
            Step::UpdateEndpoint {
                desired,
                id,
                fields,
            } => ApiRequest::update_endpoint(id, &self.desired[*desired].update(*fields, r)?),
            Step::DeleteEndpoint { id, .. } => ApiRequest::delete_endpoint(id),
        })
    }

    /// The requests deployment sends, in order, as the dry run prints them: secrets and the API
    /// key redacted, ids that do not exist yet named after the request that creates them.
    pub fn requests(&self) -> Vec<ApiRequest> {
        let created_by = self.created_by();
        let shown = Resolve::Shown {
            ids: &self.known,
            created_by: &created_by,
        };
        self.steps
            .iter()
            .map(|s| {
                self.request(s, &shown)
                    .expect("shown values always resolve")
            })
            .collect()
    }

    fn describe(&self, step: &Step) -> String {
        match step {
            Step::CreateVolume { key, size_gb } => format!(
                "create network volume {} ({size_gb} GB in {})",
                key.name, key.datacenter
            ),
            Step::GrowVolume { key, size_gb, .. } => format!(
                "grow network volume {} in {} to {size_gb} GB",
                key.name, key.datacenter
            ),
            Step::CreateEndpoint { desired } => {
                format!("create endpoint {}", self.desired[*desired].name)
            }
            Step::UpdateEndpoint { desired, .. } => {
                format!("update endpoint {}", self.desired[*desired].name)
            }
            Step::DeleteEndpoint { name, .. } => format!("delete endpoint {name} (to recreate it)"),
        }
    }

    /// Sends the plan's requests in order, writing a line per request to `out`. Returns every
    /// endpoint's id. Stops at the first failure: what was sent stays, and deploying again
    /// resumes (it is idempotent).
    pub async fn apply(
        &self,
        api: &ManagementApi,
        out: &mut (dyn std::io::Write + Send),
    ) -> Result<BTreeMap<String, String>, DeployError> {
        let mut ids = self.known.clone();
        let total = self.steps.len();
        for (done, step) in self.steps.iter().enumerate() {
            let what = self.describe(step);
            let live = Resolve::Live {
                ids: &ids,
                secrets: &self.secrets,
            };
            let req = self
                .request(step, &live)
                .ok_or_else(|| DeployError::Unresolved(what.clone()))?;
            let fail = |e| DeployError::Api {
                what: what.clone(),
                request: req.line(),
                source: Box::new(e),
                done,
                total,
            };
            match step {
                Step::CreateVolume { key, .. } => {
                    let v = api.send_volume(&req).await.map_err(fail)?;
                    ids.volumes.insert(key.clone(), v.id);
                }
                Step::GrowVolume { .. } => {
                    api.send_volume(&req).await.map_err(fail)?;
                }
                Step::CreateEndpoint { desired } => {
                    let e = api.send_endpoint(&req).await.map_err(fail)?;
                    ids.endpoints
                        .insert(self.desired[*desired].name.clone(), e.id);
                }
                Step::UpdateEndpoint { .. } => {
                    api.send_endpoint(&req).await.map_err(fail)?;
                }
                Step::DeleteEndpoint { name, .. } => {
                    api.send(&req).await.map_err(fail)?;
                    ids.endpoints.remove(name);
                }
            }
            write_line(
                out,
                &format!("  {}/{total} {what}: {} done", done + 1, req.line()),
            )?;
        }
        Ok(ids.endpoints)
    }
}

/// Each endpoint's GPU-memory budget (`model(..)`), and the cards it leaves out of a selection
/// that could otherwise land on them (`ANY`).
fn budget_notes(manifest: &Manifest, notes: &mut Vec<String>) {
    for e in &manifest.endpoints {
        let Some(lines) = endpoint_config::budget::describe(&e.config) else {
            continue;
        };
        let mut note = format!("{}: GPU budget of its model:", e.config.name);
        for l in lines {
            note.push_str("\n    ");
            note.push_str(&l);
        }
        if let Hardware::Gpu {
            selection, count, ..
        } = &e.config.hardware
            && selection.contains(&GpuChoice::Any)
        {
            let floor = e.config.min_vram_gb.unwrap_or(0);
            let small: Vec<String> = catalog::GPU_TYPES
                .iter()
                .filter(|t| t.vram_gb * count < floor)
                .map(|t| format!("{} ({} GB)", t.id, t.vram_gb))
                .collect();
            if !small.is_empty() {
                note.push_str(&format!(
                    "\n    excludes the cards too small for it (under {floor} GB per worker): {}",
                    small.join(", ")
                ));
            }
        }
        notes.push(note);
    }
}

fn image_notes(image: &str, notes: &mut Vec<String>) {
    let last = image.rsplit('/').next().unwrap_or(image);
    let tag = last
        .split_once('@')
        .map_or_else(|| last.split_once(':').map(|(_, t)| t), |_| Some("digest"));
    match tag {
        None | Some("latest") => notes.push(format!(
            "image `{image}` has no version tag (or `latest`): workers only pull a new image when \
             they are replaced, so a re-pushed `latest` may never reach them; tag each build \
             (e.g. `:0.1.0` or the git commit)"
        )),
        _ => {}
    }
}

#[cfg(test)]
mod tests;
