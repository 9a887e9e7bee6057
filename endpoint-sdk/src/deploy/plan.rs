//! From a manifest and what the account already has, to the management API requests that make
//! the account match: create what is missing, PATCH what changed (only the changed fields),
//! leave the rest alone. Every refusal (a missing secret, an ambiguous name, a change that needs
//! the endpoint recreated without `--force`) is found here, before anything is sent.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::api::{
    ApiRequest, CreateVolumeRequest, Endpoint, ManagementApi, NetworkVolume, UpdateVolumeRequest,
};
use super::cost::CostEstimate;
pub use super::desired::{Change, Effect};
use super::desired::{
    Creates, Desired, Fields, Ids, Resolve, Secrets, desire, diff, recreate_reason,
};
use super::manifest::Manifest;
use super::{APP_VAR, DeployError, PlanError};

/// What the account has: its endpoints and network volumes.
#[derive(Debug, Clone, Default)]
pub struct AccountState {
    /// Every serverless endpoint.
    pub endpoints: Vec<Endpoint>,
    /// Every network volume.
    pub volumes: Vec<NetworkVolume>,
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

/// A network volume as deployment identifies it: by name and data center.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VolumeKey {
    /// The volume's name.
    pub name: String,
    /// Its data center.
    pub datacenter: String,
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

/// What deployment does to one network volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolumeAction {
    /// Create it.
    Create,
    /// It exists (this id) and is large enough.
    Exists {
        /// Its id.
        id: String,
    },
    /// It exists and is smaller than configured: grow it.
    Grow {
        /// Its id.
        id: String,
        /// Its current size, GB.
        from_gb: u32,
    },
}

/// One request of the plan, with ids not known yet left symbolic.
#[derive(Debug, Clone)]
enum Step {
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
    app: String,
    image: String,
    api_url: String,
    state_read: bool,
    desired: Vec<Desired>,
    actions: Vec<(String, Action)>,
    volume_actions: Vec<(VolumeKey, u32, VolumeAction)>,
    steps: Vec<Step>,
    known: Ids,
    secrets: Secrets,
    notes: Vec<String>,
    cost: CostEstimate,
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
        let mut problems: Vec<PlanError> = Vec::new();
        let mut notes: Vec<String> = Vec::new();
        let mut secrets = Secrets {
            by_var: BTreeMap::new(),
            api_key: opts.api_key.clone(),
        };
        image_notes(&image, &mut notes);

        let mut desired: Vec<Desired> = Vec::new();
        for m in manifest.in_deploy_order() {
            let callees: Vec<&str> = manifest.call_graph.callees(&m.config.name).collect();
            if let Some(d) = desire(
                &manifest.app,
                &image,
                m,
                &callees,
                env,
                &mut secrets,
                &mut problems,
                &mut notes,
            ) {
                desired.push(d);
            }
        }
        if desired.iter().any(|d| d.env.contains_key("RUNPOD_API_KEY")) && opts.api_key.is_none() {
            notes.push(
                "RUNPOD_API_KEY is not set: a real deploy needs it, to authenticate and to give \
                 the endpoints that call others a key for their calls"
                    .to_string(),
            );
        }

        let mut known = Ids::default();
        let mut steps: Vec<Step> = Vec::new();
        let volume_actions = plan_volumes(manifest, state, &mut known, &mut steps, &mut notes);

        // Endpoints, callees first: a callee's id is known (it exists and keeps its id) or it is
        // created before its callers.
        let mut actions = Vec::new();
        for (i, d) in desired.iter().enumerate() {
            let found: Vec<&Endpoint> = state
                .endpoints
                .iter()
                .filter(|e| e.name == d.name)
                .collect();
            let e = match found.as_slice() {
                [] => {
                    steps.push(Step::CreateEndpoint { desired: i });
                    actions.push((d.name.clone(), Action::Create));
                    continue;
                }
                [e] => *e,
                many => {
                    problems.push(PlanError::AmbiguousName {
                        name: d.name.clone(),
                        ids: many.iter().map(|e| e.id.clone()).collect(),
                    });
                    continue;
                }
            };
            let owner = e.env.get(APP_VAR);
            if owner.map(String::as_str) != Some(manifest.app.as_str()) && !opts.adopt {
                problems.push(PlanError::NotOwned {
                    name: d.name.clone(),
                    id: e.id.clone(),
                    owner: owner.cloned(),
                    app: manifest.app.clone(),
                });
                continue;
            }
            if let Some(reason) = recreate_reason(d, e) {
                if opts.force {
                    steps.push(Step::DeleteEndpoint {
                        name: d.name.clone(),
                        id: e.id.clone(),
                    });
                    steps.push(Step::CreateEndpoint { desired: i });
                    actions.push((
                        d.name.clone(),
                        Action::Recreate {
                            id: e.id.clone(),
                            reason,
                        },
                    ));
                } else {
                    problems.push(PlanError::NeedsRecreate {
                        name: d.name.clone(),
                        id: e.id.clone(),
                        reason,
                    });
                }
                continue;
            }
            let live = Resolve::Live {
                ids: &known,
                secrets: &secrets,
            };
            let (fields, changes) = diff(d, e, &live);
            if changes.is_empty() {
                actions.push((d.name.clone(), Action::Unchanged { id: e.id.clone() }));
            } else {
                steps.push(Step::UpdateEndpoint {
                    desired: i,
                    id: e.id.clone(),
                    fields,
                });
                actions.push((
                    d.name.clone(),
                    Action::Update {
                        id: e.id.clone(),
                        changes,
                    },
                ));
            }
            known.endpoints.insert(d.name.clone(), e.id.clone());
        }

        if !problems.is_empty() {
            return Err(DeployError::Refused(problems));
        }
        Ok(Plan {
            app: manifest.app.clone(),
            image,
            api_url: opts.api_url.trim_end_matches('/').to_string(),
            state_read: state.read,
            desired,
            actions,
            volume_actions,
            steps,
            known,
            secrets,
            notes,
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

    /// The summary: what happens to each endpoint and volume, field by field, and the notes.
    pub fn render_diff(&self) -> String {
        let mut out = String::new();
        let width = self.actions.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
        let _ = writeln!(out, "plan (callees before callers):");
        for (name, action) in &self.actions {
            match action {
                Action::Create => {
                    let _ = writeln!(out, "  + {name:<width$}  create");
                }
                Action::Unchanged { id } => {
                    let _ = writeln!(out, "  = {name:<width$}  unchanged ({id})");
                }
                Action::Update { id, changes } => {
                    let _ = writeln!(out, "  ~ {name:<width$}  update ({id})");
                    for c in changes {
                        let _ = writeln!(
                            out,
                            "      {}: {} → {}  [{}]",
                            c.field, c.from, c.to, c.effect
                        );
                    }
                }
                Action::Recreate { id, reason } => {
                    let _ = writeln!(
                        out,
                        "  ! {name:<width$}  recreate: delete {id} and create it again ({reason}); \
                         it gets a new id, its queued and running jobs are cancelled"
                    );
                }
            }
        }
        for (key, size_gb, action) in &self.volume_actions {
            let what = match action {
                VolumeAction::Create => format!("+ create ({size_gb} GB)"),
                VolumeAction::Exists { id } => format!("= exists ({id})"),
                VolumeAction::Grow { id, from_gb } => {
                    format!("~ grow {from_gb} GB → {size_gb} GB ({id})")
                }
            };
            let _ = writeln!(
                out,
                "  network volume {} in {}: {what}",
                key.name, key.datacenter
            );
        }
        if !self.notes.is_empty() {
            let _ = writeln!(out, "notes:");
            for n in &self.notes {
                let _ = writeln!(out, "  - {n}");
            }
        }
        out
    }

    /// The dry run's full text: header, diff, the exact requests, the cost estimate.
    pub fn render_dry_run(&self) -> String {
        let mut out = self.render_header();
        out.push('\n');
        out.push_str(&self.render_diff());
        out.push('\n');
        let requests = self.requests();
        if requests.is_empty() {
            let _ = writeln!(out, "requests: none, the account already matches");
        } else {
            let _ = writeln!(
                out,
                "requests (dry run: nothing was sent; each carries `Authorization: Bearer \
                 $RUNPOD_API_KEY` and `Content-Type: application/json`):"
            );
            for (i, r) in requests.iter().enumerate() {
                let _ = writeln!(out, "{}. {} {}{}", i + 1, r.method, self.api_url, r.path);
                if let Some(body) = &r.body {
                    let _ = writeln!(out, "{body}");
                }
            }
        }
        out.push('\n');
        out.push_str(&self.cost.to_string());
        out
    }

    /// Who, what, where.
    pub fn render_header(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "app {}: {} endpoint(s), image {}",
            self.app,
            self.desired.len(),
            self.image
        );
        let _ = writeln!(out, "management API: {} (REST v2)", self.api_url);
        if self.state_read {
            let _ = writeln!(out, "account: read; compared with what it has");
        } else {
            let _ = writeln!(
                out,
                "account: not read (RUNPOD_API_KEY is not set): every endpoint is planned as new"
            );
        }
        out
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
            super::write_line(
                out,
                &format!("  {}/{total} {what}: {} done", done + 1, req.line()),
            )?;
        }
        Ok(ids.endpoints)
    }
}

/// Network volumes: each found by (name, data center), grown if smaller than configured, or
/// created. A volume shared by several endpoints takes the largest size any of them configures.
fn plan_volumes(
    manifest: &Manifest,
    state: &AccountState,
    known: &mut Ids,
    steps: &mut Vec<Step>,
    notes: &mut Vec<String>,
) -> Vec<(VolumeKey, u32, VolumeAction)> {
    let mut sizes: BTreeMap<VolumeKey, u32> = BTreeMap::new();
    for m in manifest.endpoints.iter() {
        for v in m.config.volumes.iter() {
            let key = VolumeKey {
                name: v.name.to_string(),
                datacenter: v.datacenter.to_string(),
            };
            let size = sizes.entry(key).or_insert(0);
            *size = (*size).max(v.size_gb);
        }
    }
    let mut volume_actions = Vec::new();
    for (key, size_gb) in sizes {
        let mut found: Vec<&NetworkVolume> = state
            .volumes
            .iter()
            .filter(|v| v.name == key.name && v.data_center == key.datacenter)
            .collect();
        found.sort_by(|a, b| a.id.cmp(&b.id));
        let action = match found.first() {
            None => {
                steps.push(Step::CreateVolume {
                    key: key.clone(),
                    size_gb,
                });
                VolumeAction::Create
            }
            Some(v) => {
                if found.len() > 1 {
                    notes.push(format!(
                        "{} network volumes are named `{}` in {}: using {} (the first by id)",
                        found.len(),
                        key.name,
                        key.datacenter,
                        v.id
                    ));
                }
                known.volumes.insert(key.clone(), v.id.clone());
                if v.size < size_gb {
                    steps.push(Step::GrowVolume {
                        id: v.id.clone(),
                        key: key.clone(),
                        size_gb,
                    });
                    VolumeAction::Grow {
                        id: v.id.clone(),
                        from_gb: v.size,
                    }
                } else {
                    if v.size > size_gb {
                        notes.push(format!(
                            "network volume `{}` in {} has {} GB, more than the {size_gb} GB \
                             configured: left as is (volumes cannot shrink)",
                            key.name, key.datacenter, v.size
                        ));
                    }
                    VolumeAction::Exists { id: v.id.clone() }
                }
            }
        };
        volume_actions.push((key, size_gb, action));
    }
    volume_actions
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
mod tests {
    use super::*;
    use crate::config::{EndpointConfig, EnvVar, Hardware, Scaler};
    use crate::deploy::api::{CpuConfig, EndpointType, Flashboot, WorkersConfig};
    use crate::deploy::manifest::ManifestEndpoint;
    use serde_json::Value;

    fn manifest(image: &str, configs: Vec<EndpointConfig>) -> Manifest {
        Manifest::build(
            "app",
            configs
                .into_iter()
                .map(|config| ManifestEndpoint {
                    rust_path: "app::e".into(),
                    config,
                })
                .collect(),
        )
        .unwrap()
        .with_image(image)
    }

    fn cpu(name: &str) -> EndpointConfig {
        let mut c = EndpointConfig::new(name.to_string());
        c.hardware = Hardware::Cpu {
            flavor: "cpu3c-2-4".into(),
        };
        c
    }

    fn plan(m: &Manifest, state: &AccountState) -> Result<Plan, DeployError> {
        Plan::new(m, state, &PlanOptions::default(), &|_| None)
    }

    #[test]
    fn unversioned_images_and_unbounded_endpoints_are_noted() {
        let mut c = cpu("e");
        c.execution_timeout_ms = None;
        c.allow = vec!["no_execution_timeout".into()].into();
        let p = plan(
            &manifest("ghcr.io/acme/app", vec![c]),
            &AccountState::unknown(),
        )
        .unwrap();
        assert!(
            p.notes()[0].contains("has no version tag"),
            "{:?}",
            p.notes()
        );
        assert!(p.notes()[1].contains("604800000 ms"), "{:?}", p.notes());
        assert!(
            p.requests()[0]
                .body
                .as_ref()
                .unwrap()
                .contains(r#""timeout": 604800000"#)
        );

        let p = plan(
            &manifest("registry:5000/acme/app:1.2", vec![cpu("e")]),
            &AccountState::unknown(),
        )
        .unwrap();
        assert!(p.notes().is_empty(), "a port is not a tag: {:?}", p.notes());
        let p = plan(
            &manifest("acme/app@sha256:abc", vec![cpu("e")]),
            &AccountState::unknown(),
        )
        .unwrap();
        assert!(p.notes().is_empty(), "{:?}", p.notes());
    }

    #[test]
    fn variables_deploy_sets_cannot_be_set_by_the_config_and_no_image_is_refused() {
        let mut c = cpu("e");
        c.env = vec![EnvVar {
            key: "ENDPOINT_NAME".into(),
            value: "other".into(),
        }]
        .into();
        let err = plan(&manifest("a:1", vec![c]), &AccountState::unknown()).unwrap_err();
        assert!(
            err.to_string()
                .contains("e: `ENDPOINT_NAME` is set by the SDK"),
            "{err}"
        );
        let mut m = manifest("a:1", vec![cpu("e")]);
        m.image = None;
        assert!(matches!(
            plan(&m, &AccountState::unknown()),
            Err(DeployError::NoImage)
        ));
    }

    #[test]
    fn an_idle_timeout_left_from_queue_delay_is_dropped_when_switching_to_request_count() {
        let mut c = cpu("e");
        c.scaler = Scaler::RequestCount(3);
        let m = manifest("a:1", vec![c]);
        let existing = Endpoint {
            id: "ep1".into(),
            name: "e".into(),
            kind: Some(EndpointType::Queue),
            image: Some("a:1".into()),
            env: BTreeMap::from([
                ("ENDPOINT_APP".to_string(), "app".to_string()),
                ("ENDPOINT_NAME".to_string(), "e".to_string()),
            ]),
            gpu: None,
            cpu: Some(vec![CpuConfig {
                id: "cpu3c".into(),
                vcpu_count: 2,
            }]),
            workers: Some(WorkersConfig {
                min: 0,
                max: 1,
                idle_timeout: Some(60),
            }),
            scaling: Some(serde_json::json!({"type": "QUEUE_DELAY", "queueDelay": 4})),
            data_center_ids: vec![],
            network_volumes: vec![],
            timeout: Some(600_000),
            flashboot: Some(Flashboot::Flashboot),
        };
        let state = AccountState {
            endpoints: vec![existing],
            volumes: vec![],
            read: true,
        };
        let p = plan(&m, &state).unwrap();
        let body: Value = serde_json::from_str(p.requests()[0].body.as_ref().unwrap()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"workers": {"min": 0, "max": 1},
                "scaling": {"type": "REQUEST_COUNT", "requestCount": 3}})
        );
    }
}
