//! Configs built in code (tests, tools, the SDK's runtime) are checked by the same rules as the
//! attribute: [`EndpointConfig::to_spec`] writes a config back as a spec, without spans, and
//! [`EndpointConfig::check`] runs [`validate`] on it. No rule lives here.

use crate::diagnostic::Diagnostics;
use crate::model::{EndpointConfig, GpuChoice, Hardware};
use crate::spec::{Int, Name, NameList, Spec};

use super::validate;

impl EndpointConfig {
    /// The config as a spec (no spans), so the attribute's rules can check a config built in
    /// code.
    pub fn to_spec(&self) -> Spec<()> {
        let n = |s: &str| Name::new(s.to_string(), ());
        let i = |v: u64| Int::new(i128::from(v), ());
        let mut spec = Spec::new(n(&self.name), ());
        spec.name = Some(n(&self.name));
        if let Some(lb) = self.load_balancer() {
            spec.load_balancer = Some(());
            spec.port = Some(i(u64::from(lb.port)));
            spec.health_port = Some(i(u64::from(lb.health_port)));
            spec.health_path = Some(n(&lb.health_path));
        }
        match &self.hardware {
            Hardware::Gpu {
                selection,
                count,
                min_cuda_version,
            } => {
                let items = selection
                    .iter()
                    .map(|c| match c {
                        GpuChoice::Any => n("ANY"),
                        GpuChoice::Pool(p) | GpuChoice::Type(p) => n(p),
                    })
                    .collect::<Vec<_>>();
                spec.gpu = Some(NameList {
                    is_list: items.len() > 1,
                    items,
                    span: (),
                });
                spec.gpu_count = Some(i(u64::from(*count)));
                spec.min_cuda_version = Some(n(min_cuda_version));
            }
            Hardware::Cpu { flavor } => spec.cpu = Some(n(flavor)),
        }
        spec.workers = Some(crate::spec::WorkersSpec {
            min: Some(i(u64::from(self.workers.min))),
            max: i(u64::from(self.workers.max)),
            span: (),
        });
        // A config always has an idle timeout; on a queue endpoint it only means something with
        // the queue-delay scaler (the attribute refuses `idle_timeout` next to `request_count`).
        let lb = self.load_balancer().is_some();
        if lb || matches!(self.scaler, crate::Scaler::QueueDelay(_)) {
            spec.idle_timeout = Some(i(u64::from(self.idle_timeout_s)));
        }
        spec.execution_timeout_ms = self.execution_timeout_ms.map(i);
        if !lb {
            spec.concurrency = Some(i(u64::from(self.concurrency)));
        }
        spec.scaler = Some(crate::spec::ScalerSpec {
            kind: n(self.scaler.kind()),
            value: i(u64::from(self.scaler.value())),
            span: (),
        });
        if !self.datacenters.is_empty() {
            spec.datacenter = Some(NameList {
                items: self.datacenters.iter().map(|d| n(d)).collect(),
                is_list: true,
                span: (),
            });
        }
        spec.volumes = self
            .volumes
            .iter()
            .map(|v| crate::spec::VolumeSpec {
                name: Some(n(&v.name)),
                size: Some(i(u64::from(v.size_gb))),
                datacenter: Some(n(&v.datacenter)),
                span: (),
            })
            .collect();
        spec.env = self.env.iter().map(|e| (n(&e.key), n(&e.value))).collect();
        spec.secrets = self.secrets.iter().map(|s| n(s)).collect();
        spec.flashboot = Some(crate::spec::Spanned::new(self.flashboot, ()));
        spec.min_vram_gb = self.min_vram_gb.map(|v| i(u64::from(v)));
        spec.model = self.model.as_ref().map(|m| crate::spec::ModelWritten {
            preset: m.preset.as_deref().map(n),
            params_m: Some(i(m.params_m)),
            embedding_params_m: Some(i(m.embedding_params_m)),
            layers: Some(i(u64::from(m.layers))),
            kv_heads: Some(i(u64::from(m.kv_heads))),
            head_dim: Some(i(u64::from(m.head_dim))),
            weights: Some(n(&m.weight_bits.to_string())),
            kv: Some(n(&m.kv_bits.to_string())),
            context: Some(i(u64::from(m.context))),
            sessions: Some(i(u64::from(m.sessions))),
            span: (),
        });
        spec.interactive = Some(crate::spec::Spanned::new(self.interactive, ()));
        spec.plain_input = Some(crate::spec::Spanned::new(self.plain_input, ()));
        spec.calls = self.calls.iter().map(|c| n(c)).collect();
        spec.init = self.has_init.then(|| n("init"));
        spec.max_steps = self.max_steps.map(|v| i(u64::from(v)));
        spec.allow = self.allow.iter().map(|a| n(a)).collect();
        spec
    }

    /// Checks a config built in code against the attribute's rules. Warnings are returned too;
    /// the config is usable when no entry is an error.
    pub fn check(&self) -> Vec<crate::Diagnostic<()>> {
        let mut d = Diagnostics::new();
        let _ = validate(&self.to_spec(), &mut d);
        d.into_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EnvVar, NetworkVolume, Scaler, Workers};
    use crate::{Lint, Severity};

    fn full() -> EndpointConfig {
        EndpointConfig {
            hardware: Hardware::Gpu {
                selection: vec![
                    GpuChoice::Type("NVIDIA A100 80GB PCIe".into()),
                    GpuChoice::Pool("AMPERE_80".into()),
                ]
                .into(),
                count: 2,
                min_cuda_version: "12.4".into(),
            },
            workers: Workers { min: 1, max: 6 },
            idle_timeout_s: 120,
            execution_timeout_ms: Some(120_000),
            concurrency: 2,
            datacenters: vec!["EU-RO-1".into()].into(),
            volumes: vec![NetworkVolume {
                name: "weights".into(),
                size_gb: 200,
                datacenter: "EU-RO-1".into(),
            }]
            .into(),
            env: vec![EnvVar {
                key: "HF_HOME".into(),
                value: "/runpod-volume/hf".into(),
            }]
            .into(),
            secrets: vec!["HF_TOKEN".into()].into(),
            min_vram_gb: Some(120),
            interactive: true,
            calls: vec!["embed".into()].into(),
            has_init: true,
            max_steps: Some(10),
            allow: vec!["high_concurrency".into()].into(),
            ..EndpointConfig::new("agent")
        }
    }

    #[test]
    fn a_valid_config_passes_and_survives_the_round_trip_through_a_spec() {
        let config = full();
        assert_eq!(config.check(), vec![]);
        let mut d = Diagnostics::new();
        assert_eq!(validate(&config.to_spec(), &mut d), config);
    }

    #[test]
    fn a_load_balancing_config_survives_the_round_trip_with_its_idle_timeout() {
        let config = EndpointConfig {
            kind: crate::EndpointKind::LoadBalancer(crate::LoadBalancer {
                port: 8080,
                health_port: 8081,
                health_path: "/healthz".into(),
            }),
            scaler: Scaler::RequestCount(2),
            concurrency: 1,
            ..full()
        };
        assert_eq!(config.check(), vec![]);
        let mut d = Diagnostics::new();
        assert_eq!(validate(&config.to_spec(), &mut d), config);
        let too_long = EndpointConfig {
            execution_timeout_ms: Some(600_000),
            ..config
        };
        let problems = too_long.check();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].message.contains("5.5 minutes"));
    }

    #[test]
    fn the_request_count_scaler_is_written_without_an_idle_timeout() {
        let config = EndpointConfig {
            scaler: Scaler::RequestCount(3),
            ..full()
        };
        assert!(config.to_spec().idle_timeout.is_none());
        assert_eq!(config.check(), vec![], "the combination rule must not fire");
    }

    #[test]
    fn a_config_built_in_code_is_refused_by_the_attributes_rules() {
        let config = EndpointConfig {
            workers: Workers { min: 0, max: 6 },
            execution_timeout_ms: Some(1_000),
            ..full()
        };
        let problems = config.check();
        let messages: Vec<_> = problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(problems.len(), 2, "{messages:?}");
        assert!(messages[0].starts_with("`execution_timeout_ms = 1_000` is out of range"));
        assert_eq!(problems[1].lint, Some(Lint::InteractiveColdStart));
        assert!(problems.iter().all(|p| p.severity == Severity::Error));
    }
}
