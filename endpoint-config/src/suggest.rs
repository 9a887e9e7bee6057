//! "Did you mean" for near misses.

/// The candidate closest to `input`, if it is close enough to be what the user meant.
/// Comparison ignores case, `-` and `_`, so `rtx_4090` finds `NVIDIA_GEFORCE_RTX_4090` only when
/// the rest is close, and `eu-ro-1` finds `EU_RO_1`.
pub fn did_you_mean<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| *c != '_' && *c != '-' && *c != ' ')
            .flat_map(char::to_lowercase)
            .collect()
    };
    let wanted = norm(input);
    if wanted.is_empty() {
        return None;
    }
    // Ranked by similarity; edit distance breaks ties (`AMPERE_81` is one edit from
    // `AMPERE_80`, two from `AMPERE_16`).
    let mut best: Option<(&'a str, f64, usize)> = None;
    for c in candidates {
        let cand = norm(c);
        let mut score = strsim::jaro_winkler(&wanted, &cand);
        // A candidate that contains the whole input ("4090" in "...RTX4090") is a strong hint.
        if wanted.len() >= 3 && cand.contains(&wanted) {
            score = score.max(0.9);
        }
        let edits = strsim::levenshtein(&wanted, &cand);
        let better = match best {
            None => true,
            Some((_, s, e)) => score > s + 1e-9 || ((score - s).abs() <= 1e-9 && edits < e),
        };
        if better {
            best = Some((c, score, edits));
        }
    }
    best.filter(|(_, s, _)| *s >= 0.84).map(|(c, _, _)| c)
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn finds_near_misses_only() {
        let keys = [
            "workers",
            "idle_timeout",
            "execution_timeout_ms",
            "gpu",
            "cpu",
        ];
        assert_eq!(did_you_mean("worker", keys), Some("workers"));
        assert_eq!(
            did_you_mean("execution_timeout", keys),
            Some("execution_timeout_ms")
        );
        assert_eq!(did_you_mean("idle_timout", keys), Some("idle_timeout"));
        assert_eq!(did_you_mean("colour", keys), None);
        let gpus = [
            "NVIDIA_GEFORCE_RTX_4090",
            "NVIDIA_GEFORCE_RTX_3090",
            "ADA_24",
        ];
        assert_eq!(
            did_you_mean("RTX_4090", gpus),
            Some("NVIDIA_GEFORCE_RTX_4090")
        );
        assert_eq!(did_you_mean("ADA24", gpus), Some("ADA_24"));
        let pools = ["AMPERE_16", "AMPERE_24", "AMPERE_48", "AMPERE_80"];
        assert_eq!(did_you_mean("AMPERE_81", pools), Some("AMPERE_80"));
    }
}
