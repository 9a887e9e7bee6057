//! Network volumes in a deployment: identified by name and data center, found in the account,
//! grown when smaller than configured, or created.

use std::collections::BTreeMap;

use super::manifest::Manifest;
use super::remote::RemoteVolume;
use crate::config::NetworkVolume;

/// A network volume as deployment identifies it: by name and data center.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VolumeKey {
    /// The volume's name.
    pub name: String,
    /// Its data center.
    pub datacenter: String,
}

impl VolumeKey {
    /// The key of a configured volume.
    pub fn of(v: &NetworkVolume) -> Self {
        VolumeKey {
            name: v.name.to_string(),
            datacenter: v.datacenter.to_string(),
        }
    }
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

impl VolumeAction {
    /// The volume's id, if it exists.
    pub fn id(&self) -> Option<&str> {
        match self {
            VolumeAction::Create => None,
            VolumeAction::Exists { id } | VolumeAction::Grow { id, .. } => Some(id),
        }
    }
}

/// Network volumes: each found by (name, data center), grown if smaller than configured, or
/// created. A volume shared by several endpoints takes the largest size any of them configures.
pub(super) fn plan_volumes(
    manifest: &Manifest,
    existing: &[RemoteVolume],
    notes: &mut Vec<String>,
) -> Vec<(VolumeKey, u32, VolumeAction)> {
    let mut sizes: BTreeMap<VolumeKey, u32> = BTreeMap::new();
    for m in manifest.endpoints.iter() {
        for v in m.config.volumes.iter() {
            let size = sizes.entry(VolumeKey::of(v)).or_insert(0);
            *size = (*size).max(v.size_gb);
        }
    }
    let mut volume_actions = Vec::new();
    for (key, size_gb) in sizes {
        let mut found: Vec<&RemoteVolume> = existing
            .iter()
            .filter(|v| v.name == key.name && v.data_center == key.datacenter)
            .collect();
        found.sort_by(|a, b| a.id.cmp(&b.id));
        let action = match found.first() {
            None => VolumeAction::Create,
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
                if v.size < size_gb {
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
