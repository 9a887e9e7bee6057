//! Symbolic values of a plan (secrets, the API key, ids of endpoints and volumes not created
//! yet) and how they become text: live (to send or compare) or shown (to people, redacted).

use std::collections::BTreeMap;

use super::volume::VolumeKey;

/// The value of one environment variable of a deployed endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum EnvValue {
    /// Written in the config (`env(..)`), or set by deploy (`ENDPOINT_NAME`, `ENDPOINT_APP`).
    Plain(String),
    /// `secrets = [..]`: read from the deployer's environment.
    Secret,
    /// The deployer's `RUNPOD_API_KEY`.
    ApiKey,
    /// The platform id of the named endpoint (`ENDPOINT_ID_<NAME>`).
    EndpointId(String),
}

/// Ids known so far: from the account, then from what the plan creates.
#[derive(Debug, Clone, Default)]
pub(super) struct Ids {
    /// Endpoint name → id.
    pub(super) endpoints: BTreeMap<String, String>,
    /// Volume → id.
    pub(super) volumes: BTreeMap<VolumeKey, String>,
}

/// Values that are never printed.
#[derive(Clone, Default)]
pub(super) struct Secrets {
    pub(super) by_var: BTreeMap<String, String>,
    pub(super) api_key: Option<String>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets")
            .field("vars", &self.by_var.keys().collect::<Vec<_>>())
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// How symbolic values become text.
pub(super) enum Resolve<'a> {
    /// Real values, to send or compare; `None` where an id is not known yet.
    Live { ids: &'a Ids, secrets: &'a Secrets },
    /// For people: secrets redacted, ids not known yet named after the request that creates them.
    Shown {
        ids: &'a Ids,
        created_by: &'a BTreeMap<Creates, usize>,
    },
}

/// What a step creates (to name it in placeholders).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Creates {
    Endpoint(String),
    Volume(VolumeKey),
}

impl Resolve<'_> {
    pub(super) fn env(&self, key: &str, v: &EnvValue) -> Option<String> {
        match (self, v) {
            (_, EnvValue::Plain(s)) => Some(s.clone()),
            (Resolve::Live { secrets, .. }, EnvValue::Secret) => secrets.by_var.get(key).cloned(),
            (Resolve::Live { secrets, .. }, EnvValue::ApiKey) => secrets.api_key.clone(),
            (Resolve::Shown { .. }, EnvValue::Secret) => {
                Some(format!("<redacted: ${key} from your environment>"))
            }
            (Resolve::Shown { .. }, EnvValue::ApiKey) => {
                Some("<redacted: $RUNPOD_API_KEY from your environment>".to_string())
            }
            (Resolve::Live { ids, .. }, EnvValue::EndpointId(n)) => ids.endpoints.get(n).cloned(),
            (Resolve::Shown { ids, created_by }, EnvValue::EndpointId(n)) => {
                Some(ids.endpoints.get(n).cloned().unwrap_or_else(|| {
                    let by = created_by.get(&Creates::Endpoint(n.clone()));
                    format!(
                        "<id of {n}{}>",
                        by.map_or(String::new(), |i| format!(", from request {i}"))
                    )
                }))
            }
        }
    }

    pub(super) fn volume(&self, k: &VolumeKey) -> Option<String> {
        match self {
            Resolve::Live { ids, .. } => ids.volumes.get(k).cloned(),
            Resolve::Shown { ids, created_by } => {
                Some(ids.volumes.get(k).cloned().unwrap_or_else(|| {
                    let by = created_by.get(&Creates::Volume(k.clone()));
                    format!(
                        "<id of volume {} in {}{}>",
                        k.name,
                        k.datacenter,
                        by.map_or(String::new(), |i| format!(", from request {i}"))
                    )
                }))
            }
        }
    }
}
