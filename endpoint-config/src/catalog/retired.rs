//! Values the catalog leaves out on purpose. A user who writes one (from an old example, or from
//! an older SDK) is told why it is gone and what to use instead, rather than being sent to the
//! nearest spelling: `US_GA_2` is not a typo of `US_CA_2`, and Georgia is not California.
//!
//! # How to update it
//!
//! When a row leaves [`super::data`] on purpose, add it here with the reason and the choices that
//! replace it, nearest first. The unit tests check that no retired value is still in the catalog
//! and that every replacement is.

/// What kind of catalog value a retired row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetiredKind {
    /// A data center id (`datacenter = ..`, `volume(datacenter = ..)`).
    DataCenter,
    /// A GPU type or pool (`gpu = ..`).
    Gpu,
    /// A CPU flavor (`cpu = ..`).
    CpuFlavor,
    /// A CUDA version (`min_cuda_version = ..`).
    CudaVersion,
}

impl RetiredKind {
    /// How a user writes the catalog value `id` in the attribute (`US-NC-2` → `US_NC_2`).
    pub fn written(self, id: &str) -> String {
        match self {
            RetiredKind::DataCenter => id.replace('-', "_"),
            RetiredKind::Gpu | RetiredKind::CpuFlavor | RetiredKind::CudaVersion => id.to_string(),
        }
    }
}

/// A value that is no longer offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retired {
    /// What kind of value.
    pub kind: RetiredKind,
    /// The value as the platform spelled it, e.g. `"US-GA-2"`.
    pub id: &'static str,
    /// Why it is gone, as the end of a sentence ("it is no longer offered: ..").
    pub reason: &'static str,
    /// The catalog values that replace it, nearest first.
    pub instead: &'static [&'static str],
}

const NO_NETWORK_STORAGE: &str = "its workers had no network storage mount, so Runpod Flash 1.19 \
                                  dropped it from the data centers endpoints can be pinned to";

/// Every retired value.
///
/// The data centers' replacements are the catalog's data centers of the same region, nearest
/// first by the great-circle distance between the geographic centres of the states (or countries)
/// their ids name: `US-GA-2` is Georgia, whose nearest catalog neighbour is North Carolina (`US-NC-2`);
/// `EUR-IS-1` is Iceland, nearest to Norway (`EUR-NO-1`).
pub const RETIRED: &[Retired] = &[
    Retired {
        kind: RetiredKind::DataCenter,
        id: "US-GA-2",
        reason: NO_NETWORK_STORAGE,
        instead: &[
            "US-NC-2", "US-IL-1", "US-MO-1", "US-MO-2", "US-KS-2", "US-NE-1", "US-CA-2", "US-WA-1",
        ],
    },
    Retired {
        kind: RetiredKind::DataCenter,
        id: "US-MD-1",
        reason: NO_NETWORK_STORAGE,
        instead: &[
            "US-NC-2", "US-IL-1", "US-MO-1", "US-MO-2", "US-KS-2", "US-NE-1", "US-WA-1", "US-CA-2",
        ],
    },
    Retired {
        kind: RetiredKind::DataCenter,
        id: "US-NC-1",
        reason: NO_NETWORK_STORAGE,
        instead: &[
            "US-NC-2", "US-IL-1", "US-MO-1", "US-MO-2", "US-KS-2", "US-NE-1", "US-CA-2", "US-WA-1",
        ],
    },
    Retired {
        kind: RetiredKind::DataCenter,
        id: "EUR-IS-1",
        reason: NO_NETWORK_STORAGE,
        instead: &["EUR-NO-1", "EU-CZ-1", "EU-RO-1"],
    },
];

/// The retired value of `kind` that `written` names, however it is spelled (`US_GA_2`,
/// `"us-ga-2"`).
pub fn retired(kind: RetiredKind, written: &str) -> Option<&'static Retired> {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| !matches!(c, '-' | '_' | ' '))
            .flat_map(char::to_lowercase)
            .collect()
    };
    let wanted = norm(written);
    RETIRED
        .iter()
        .find(|r| r.kind == kind && norm(r.id) == wanted)
}

impl Retired {
    /// The error message for a user who wrote this value as `written`.
    pub fn message(&self, written: &str) -> String {
        format!("`{written}` is no longer offered: {}", self.reason)
    }

    /// The replacements as a user writes them, nearest first.
    pub fn instead_written(&self) -> Vec<String> {
        self.instead.iter().map(|i| self.kind.written(i)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{self, DATA_CENTERS};

    fn in_catalog(kind: RetiredKind, id: &str) -> bool {
        match kind {
            RetiredKind::DataCenter => catalog::data_center(id).is_some(),
            RetiredKind::Gpu => catalog::resolve_gpu(id).is_some(),
            RetiredKind::CpuFlavor => catalog::cpu_flavor(id).is_some(),
            RetiredKind::CudaVersion => catalog::is_cuda_version(id),
        }
    }

    /// `US` or `EU` (the European ids start `EU-` or `EUR-`).
    fn region(id: &str) -> &str {
        &id[..2]
    }

    #[test]
    fn retired_values_are_out_of_the_catalog_and_replacements_in_it() {
        for r in RETIRED {
            assert!(!in_catalog(r.kind, r.id), "{} is retired but listed", r.id);
            assert!(!r.instead.is_empty(), "{} has no replacement", r.id);
            for i in r.instead {
                assert!(
                    in_catalog(r.kind, i),
                    "{}: replacement {i} is unknown",
                    r.id
                );
            }
        }
    }

    #[test]
    fn a_retired_data_center_is_replaced_by_every_one_of_its_region() {
        for r in RETIRED.iter().filter(|r| r.kind == RetiredKind::DataCenter) {
            let mut expected: Vec<&str> = DATA_CENTERS
                .iter()
                .map(|d| d.id)
                .filter(|id| region(id) == region(r.id))
                .collect();
            let mut listed = r.instead.to_vec();
            expected.sort_unstable();
            listed.sort_unstable();
            assert_eq!(listed, expected, "{}", r.id);
        }
    }

    #[test]
    fn found_however_it_is_spelled() {
        let ga = retired(RetiredKind::DataCenter, "US_GA_2").expect("US-GA-2 is retired");
        assert_eq!(ga.id, "US-GA-2");
        assert_eq!(ga.instead_written()[0], "US_NC_2");
        assert!(retired(RetiredKind::DataCenter, "us-ga-2").is_some());
        assert!(retired(RetiredKind::DataCenter, "US_CA_2").is_none());
        assert!(retired(RetiredKind::Gpu, "US_GA_2").is_none());
        assert!(ga.message("US_GA_2").contains("no network storage"));
    }
}
