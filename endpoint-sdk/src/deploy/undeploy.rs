//! `undeploy`: delete an application's endpoints, callers before callees, and only those it
//! deployed.

use super::error::DeployError;
use super::management::{ApiRequest, ManagementApi};
use super::manifest::Manifest;
use super::output::{write_line, write_text};
use super::plan::AccountState;
use super::remote::RemoteEndpoint;
use crate::protocol::vars::ENDPOINT_APP;

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
            let found: Vec<&RemoteEndpoint> =
                state.endpoints.iter().filter(|e| e.name == *name).collect();
            if found.is_empty() {
                plan.absent.push(name.clone());
            }
            for e in found {
                let owner = e.env.get(ENDPOINT_APP);
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
