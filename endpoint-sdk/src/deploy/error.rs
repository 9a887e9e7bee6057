//! Why a deployment did not happen or stopped, and the problems planning finds before anything
//! is sent.

use super::management::ManagementError;
use super::manifest::ManifestError;

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
        source: Box<ManagementError>,
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
    pub(super) fn api(what: &str, request: &str, source: ManagementError) -> Self {
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
    /// An endpoint calls an external endpoint whose id is unknown.
    #[error(
        "{endpoint}: it calls `{external}`, an endpoint built elsewhere, whose id is unknown{}: \
         export ENDPOINT_ID_{} (or give `id = \"..\"` in its #[external]) before deploying",
        .id_from.as_ref().map(|f| format!(" ({f} is not set)")).unwrap_or_default(),
        crate::protocol::vars::endpoint_suffix(.external)
    )]
    ExternalUnaddressed {
        /// The calling endpoint.
        endpoint: String,
        /// The external endpoint.
        external: String,
        /// How its attribute gives the id, if it does.
        id_from: Option<String>,
    },
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
