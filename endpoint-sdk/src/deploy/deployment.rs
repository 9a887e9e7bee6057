//! `deploy`: read the account, plan, print the plan, send the requests.

use std::collections::BTreeMap;

use super::error::DeployError;
use super::management::ManagementApi;
use super::manifest::Manifest;
use super::output::{write_line, write_text};
use super::plan::{AccountState, Action, Plan, PlanOptions};

/// The public endpoint API's base, for the URLs printed after a deployment.
const PUBLIC_API: &str = "https://api.runpod.ai/v2";

/// How to deploy.
#[derive(Clone, Default)]
pub struct DeployOptions {
    /// The management API's base URL ([`DEFAULT_API_URL`](super::DEFAULT_API_URL)).
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
        let load_balancing = manifest
            .endpoints
            .iter()
            .any(|e| e.config.name == *name && e.config.load_balancer().is_some());
        let route = if load_balancing {
            format!("HTTP https://{id}.api.runpod.ai/<path>")
        } else {
            format!("POST {PUBLIC_API}/{id}/run")
        };
        write_line(out, &format!("  {name:<width$}  {id}  {route}"))?;
    }
    write_line(out, "")?;
    write_text(out, &plan.cost().to_string())?;
    Ok(Deployment { plan, endpoint_ids })
}
