//! A plan in words: the header, the field-by-field summary, and the dry run's exact requests.

use std::fmt::Write as _;

use super::plan::{Action, Plan};
use super::volume::VolumeAction;

impl Plan {
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
}
