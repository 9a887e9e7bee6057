//! A variant's overrides, `"endpoint.key" = value`, applied to the endpoints' configurations and
//! checked by the same rules as the attribute (`EndpointConfig::check`), so a variant the
//! attribute would refuse is refused here, with the attribute's message.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use super::SimulateError;
use crate::config::{EndpointConfig, Scaler, Severity, Workers};
use endpoint_config::{
    Lint, callee_bounded, callee_fits, callee_not_below_message, callee_unbounded_message,
};

/// The keys a variant may set.
const KEYS: &str =
    "workers, concurrency, idle_timeout, execution_timeout, scaler, flashboot, interactive";

/// `configs` with `overrides` applied (each key `endpoint.key`), checked.
pub(crate) fn apply(
    configs: &[EndpointConfig],
    variant: &str,
    overrides: &BTreeMap<String, Value>,
) -> Result<Vec<EndpointConfig>, SimulateError> {
    let mut out = configs.to_vec();
    for (path, value) in overrides {
        let err = |why: String| SimulateError::Variant {
            variant: variant.to_string(),
            key: path.clone(),
            why,
        };
        let (endpoint, key) = path.split_once('.').ok_or_else(|| {
            err("write the key as `endpoint.key`, e.g. `\"agent-orchestrator.workers\"`".into())
        })?;
        let config = out.iter_mut().find(|c| c.name == endpoint).ok_or_else(|| {
            let names: Vec<&str> = configs.iter().map(|c| c.name.as_ref()).collect();
            err(format!(
                "no endpoint `{endpoint}` in this application (it has {})",
                names.join(", ")
            ))
        })?;
        if key == "concurrency" && config.load_balancer().is_some() {
            return Err(err(
                "a load-balancing endpoint has no job concurrency: its worker takes what the \
                 balancer sends, and the scaler's value (`scaler = \"request_count(n)\"`) is \
                 how many requests one worker is given before another starts; vary `scaler`"
                    .into(),
            ));
        }
        set(config, key, value).map_err(err)?;
    }
    for c in &out {
        let errors: Vec<String> = c
            .check()
            .into_iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| d.message)
            .collect();
        if !errors.is_empty() {
            let mut why = errors.join("; ");
            if c.interactive && c.workers.min == 0 {
                why.push_str(&format!(
                    " (to measure that wait anyway, add `\"{}.interactive\" = false` to the \
                     variant)",
                    c.name
                ));
            }
            return Err(SimulateError::Variant {
                variant: variant.to_string(),
                key: c.name.to_string(),
                why,
            });
        }
    }
    check_calls(&out).map_err(|(caller, why)| SimulateError::Variant {
        variant: variant.to_string(),
        key: caller,
        why,
    })?;
    Ok(out)
}

/// The rules between endpoints the attribute checks at compile time: each callee has a
/// ceiling below its caller's, unless the caller allows `callee_timeout`.
fn check_calls(configs: &[EndpointConfig]) -> Result<(), (String, String)> {
    for caller in configs {
        let Some(ms) = caller.execution_timeout_ms else {
            continue;
        };
        if caller.allows(Lint::CalleeTimeout) {
            continue;
        }
        for name in caller.calls.iter() {
            let Some(callee) = configs.iter().find(|c| c.name == name.as_ref()) else {
                continue;
            };
            let why = if !callee_bounded(callee, caller) {
                callee_unbounded_message(&caller.name, ms, &callee.name)
            } else if !callee_fits(callee, caller) {
                callee_not_below_message(&caller.name, ms, &callee.name)
            } else {
                continue;
            };
            return Err((caller.name.to_string(), why));
        }
    }
    Ok(())
}

fn set(c: &mut EndpointConfig, key: &str, v: &Value) -> Result<(), String> {
    match key {
        "workers" => {
            let pair = match v {
                Value::Array(a) if a.len() == 2 => (a[0].as_u64(), a[1].as_u64()),
                Value::String(s) => {
                    let inner = s.trim().trim_start_matches('(').trim_end_matches(')');
                    let mut it = inner.split(',').map(|n| n.trim().parse::<u64>().ok());
                    (it.next().flatten(), it.next().flatten())
                }
                _ => (None, None),
            };
            let (Some(min), Some(max)) = pair else {
                return Err(format!("`workers` takes [min, max], e.g. [0, 20]; got {v}"));
            };
            c.workers = Workers {
                min: u32::try_from(min).map_err(|_| format!("{min} is too large"))?,
                max: u32::try_from(max).map_err(|_| format!("{max} is too large"))?,
            };
        }
        "concurrency" => c.concurrency = int(v, "concurrency")?,
        "idle_timeout" | "idle_timeout_s" => {
            c.idle_timeout_s = u32::try_from(duration(v, key, 1.0)?.as_secs())
                .map_err(|_| "too long".to_string())?;
        }
        "execution_timeout" | "execution_timeout_ms" => {
            let ms = if key.ends_with("_ms") { 0.001 } else { 1.0 };
            c.execution_timeout_ms = Some(duration(v, key, ms)?.as_millis() as u64);
        }
        "flashboot" => {
            c.flashboot = v
                .as_bool()
                .ok_or_else(|| format!("`flashboot` takes true or false; got {v}"))?;
        }
        "interactive" => {
            c.interactive = v
                .as_bool()
                .ok_or_else(|| format!("`interactive` takes true or false; got {v}"))?;
        }
        "scaler" => c.scaler = scaler(v)?,
        other => {
            return Err(format!(
                "`{other}` cannot be varied in a simulation; the keys are {KEYS}"
            ));
        }
    }
    Ok(())
}

fn int(v: &Value, key: &str) -> Result<u32, String> {
    v.as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| format!("`{key}` takes a whole number; got {v}"))
}

/// A duration: text (`"30s"`), or a number in units of `unit` seconds.
fn duration(v: &Value, key: &str, unit: f64) -> Result<Duration, String> {
    match v {
        Value::Number(n) => n
            .as_f64()
            .filter(|f| f.is_finite() && *f >= 0.0)
            .map(|f| Duration::from_secs_f64(f * unit))
            .ok_or_else(|| format!("`{key}` takes a duration; got {v}")),
        Value::String(s) => humantime::parse_duration(s.trim())
            .map_err(|e| format!("`{key}`: `{s}` is not a duration ({e})")),
        _ => Err(format!("`{key}` takes a duration such as \"30s\"; got {v}")),
    }
}

/// `"queue_delay(4)"` or `"request_count(2)"`.
fn scaler(v: &Value) -> Result<Scaler, String> {
    let bad = || {
        format!("`scaler` takes \"queue_delay(seconds)\" or \"request_count(requests)\"; got {v}")
    };
    let s = v.as_str().ok_or_else(bad)?.trim();
    let (kind, rest) = s.split_once('(').ok_or_else(bad)?;
    let n: u32 = rest
        .trim_end_matches(')')
        .trim()
        .parse()
        .map_err(|_| bad())?;
    match kind.trim() {
        "queue_delay" => Ok(Scaler::QueueDelay(n)),
        "request_count" => Ok(Scaler::RequestCount(n)),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> Vec<EndpointConfig> {
        let mut c = EndpointConfig::new("orch".to_string());
        c.execution_timeout_ms = Some(60_000);
        vec![c]
    }

    fn over(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn overrides_set_their_keys() {
        let out = apply(
            &base(),
            "v",
            &over(&[
                ("orch.workers", json!([3, 20])),
                ("orch.concurrency", json!(4)),
                ("orch.idle_timeout", json!("2m")),
                ("orch.execution_timeout_ms", json!(90_000)),
                ("orch.flashboot", json!(true)),
                ("orch.scaler", json!("request_count(2)")),
            ]),
        )
        .unwrap();
        let c = &out[0];
        assert_eq!((c.workers.min, c.workers.max), (3, 20));
        assert_eq!(c.concurrency, 4);
        assert_eq!(c.idle_timeout_s, 120);
        assert_eq!(c.execution_timeout_ms, Some(90_000));
        assert!(c.flashboot);
        assert_eq!(c.scaler, Scaler::RequestCount(2));
        let c = &apply(&base(), "v", &over(&[("orch.workers", json!("(1, 5)"))])).unwrap()[0];
        assert_eq!((c.workers.min, c.workers.max), (1, 5));
    }

    #[test]
    fn a_variant_the_attribute_would_refuse_is_refused_with_its_reason() {
        let e = apply(&base(), "bad", &over(&[("orch.workers", json!([5, 2]))]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("bad") && e.contains("orch"), "{e}");
        let e = apply(&base(), "v", &over(&[("nope.workers", json!([0, 1]))]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no endpoint `nope`") && e.contains("orch"),
            "{e}"
        );
        let e = apply(&base(), "v", &over(&[("orch.gpu", json!("x"))]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("cannot be varied") && e.contains("workers"),
            "{e}"
        );
        let e = apply(&base(), "v", &over(&[("workers", json!([0, 1]))]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("endpoint.key"), "{e}");
    }

    #[test]
    fn scaling_an_interactive_endpoint_to_zero_needs_it_said_and_then_runs() {
        let mut configs = base();
        configs[0].interactive = true;
        let e = apply(&configs, "v", &over(&[("orch.workers", json!([0, 20]))]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"orch.interactive\" = false"), "{e}");
        let out = apply(
            &configs,
            "v",
            &over(&[
                ("orch.workers", json!([0, 20])),
                ("orch.interactive", json!(false)),
            ]),
        )
        .unwrap();
        assert!(!out[0].interactive && out[0].workers.min == 0);
    }

    #[test]
    fn a_variant_that_lets_a_callee_outlive_its_caller_is_refused() {
        let mut configs = base();
        let mut leaf = configs[0].clone();
        leaf.name = "leaf".into();
        leaf.execution_timeout_ms = Some(10_000);
        configs[0].execution_timeout_ms = Some(60_000);
        configs[0].calls = vec!["leaf".into()].into();
        configs.push(leaf);
        apply(&configs, "ok", &over(&[])).unwrap();
        let e = apply(
            &configs,
            "v",
            &over(&[("leaf.execution_timeout", json!("90s"))]),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("`leaf`") && e.contains("not below"), "{e}");
        let e = apply(
            &configs,
            "v",
            &over(&[("orch.execution_timeout", json!("6s"))]),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("variant `v`, `orch`"), "{e}");
    }
}
