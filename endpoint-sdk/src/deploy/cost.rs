//! The cost floor of a deployment: what the always-on workers (`workers.min`) cost per hour on
//! the chosen hardware, from the catalog's dated price table. An estimate: the platform's bill is
//! authoritative (negotiated discounts, disk and volume storage are not included).

use std::fmt;

use super::manifest::Manifest;
use crate::config::{EndpointConfig, Hardware, catalog};

/// Hours in an average month (365 × 24 / 12).
const HOURS_PER_MONTH: f64 = 730.0;

/// The estimate for every endpoint of a manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct CostEstimate {
    /// One row per endpoint, in the manifest's deploy order.
    pub rows: Vec<CostRow>,
    /// The date the price table was read ([`catalog::PRICES_AS_OF`]).
    pub prices_as_of: &'static str,
}

/// The estimate for one endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct CostRow {
    /// The endpoint.
    pub endpoint: String,
    /// The hardware and its unit prices, in words.
    pub hardware: String,
    /// `workers.min`.
    pub min_workers: u32,
    /// `workers.max`.
    pub max_workers: u32,
    /// One always-on worker per hour, USD: (cheapest, dearest) over the pools the selection
    /// allows. `None` when the catalog has no price for it.
    pub active_worker_per_h: Option<(f64, f64)>,
    /// One worker that scales with load, per hour, USD (cheapest, dearest).
    pub flex_worker_per_h: Option<(f64, f64)>,
}

impl CostRow {
    /// The floor: `workers.min` always-on workers, per hour (cheapest, dearest).
    pub fn floor_per_h(&self) -> Option<(f64, f64)> {
        let n = f64::from(self.min_workers);
        self.active_worker_per_h.map(|(lo, hi)| (lo * n, hi * n))
    }

    /// Every worker busy: the floor plus `max - min` flex workers, per hour.
    pub fn ceiling_per_h(&self) -> Option<(f64, f64)> {
        let (flo, fhi) = self.floor_per_h()?;
        let extra = f64::from(self.max_workers.saturating_sub(self.min_workers));
        let (lo, hi) = self.flex_worker_per_h?;
        Some((flo + lo * extra, fhi + hi * extra))
    }
}

impl CostEstimate {
    /// The estimate of every endpoint of `manifest`.
    pub fn of(manifest: &Manifest) -> Self {
        CostEstimate {
            rows: manifest.in_deploy_order().map(|e| row(&e.config)).collect(),
            prices_as_of: catalog::PRICES_AS_OF,
        }
    }

    /// The sum of the floors (cheapest, dearest), per hour.
    pub fn floor_per_h(&self) -> (f64, f64) {
        self.rows
            .iter()
            .filter_map(CostRow::floor_per_h)
            .fold((0.0, 0.0), |(a, b), (lo, hi)| (a + lo, b + hi))
    }
}

fn row(c: &EndpointConfig) -> CostRow {
    let per_s_to_h = 3600.0;
    let (hardware, active, flex) = match &c.hardware {
        Hardware::Gpu { count, .. } => {
            let prices: Vec<(&str, Option<&catalog::Price>)> = c
                .gpu_pools()
                .into_iter()
                .map(|p| (p, catalog::price(p)))
                .collect();
            let n = f64::from(*count);
            let span = |pick: fn(&catalog::Price) -> f64| -> Option<(f64, f64)> {
                let all: Option<Vec<f64>> = prices
                    .iter()
                    .map(|(_, p)| p.map(|p| pick(p) * per_s_to_h * n))
                    .collect();
                let all = all.filter(|a| !a.is_empty())?;
                Some((
                    all.iter().copied().fold(f64::INFINITY, f64::min),
                    all.iter().copied().fold(0.0, f64::max),
                ))
            };
            let units: Vec<String> = prices
                .iter()
                .map(|(pool, p)| match p {
                    Some(p) => format!("{pool} ${:.3}", p.active_per_s * per_s_to_h),
                    None => format!("{pool} (no price)"),
                })
                .collect();
            (
                format!(
                    "{count} GPU per worker; active price per GPU-hour: {}",
                    units.join(", ")
                ),
                span(|p| p.active_per_s),
                span(|p| p.flex_per_s),
            )
        }
        Hardware::Cpu { flavor } => {
            let f = catalog::cpu_flavor(flavor);
            let p = f.and_then(|f| catalog::price(f.family()));
            match (f, p) {
                (Some(f), Some(p)) => {
                    let v = f64::from(f.vcpu) * per_s_to_h;
                    let a = p.active_per_s * v;
                    let x = p.flex_per_s * v;
                    (
                        format!(
                            "{flavor}: {} vCPU × ${:.4} active per vCPU-hour",
                            f.vcpu,
                            p.active_per_s * per_s_to_h
                        ),
                        Some((a, a)),
                        Some((x, x)),
                    )
                }
                _ => (format!("{flavor} (no price)"), None, None),
            }
        }
    };
    CostRow {
        endpoint: c.name.to_string(),
        hardware,
        min_workers: c.workers.min,
        max_workers: c.workers.max,
        active_worker_per_h: active,
        flex_worker_per_h: flex,
    }
}

fn money((lo, hi): (f64, f64)) -> String {
    if (hi - lo).abs() < 0.005 {
        format!("${lo:.2}")
    } else {
        format!("${lo:.2}–${hi:.2}")
    }
}

impl fmt::Display for CostEstimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "cost estimate (Runpod list prices as of {}; an estimate, not a quote: the bill is \
             authoritative):",
            self.prices_as_of
        )?;
        let width = self
            .rows
            .iter()
            .map(|r| r.endpoint.len())
            .max()
            .unwrap_or(0);
        for r in &self.rows {
            let floor = r.floor_per_h().map_or("no price".to_string(), money);
            let ceiling = r.ceiling_per_h().map_or(String::new(), |c| {
                format!("; all {} workers busy: up to {}/h", r.max_workers, money(c))
            });
            writeln!(
                f,
                "  {:<width$}  floor {floor}/h ({} always-on){ceiling}",
                r.endpoint, r.min_workers
            )?;
            writeln!(f, "  {:<width$}    {}", "", r.hardware)?;
        }
        let total = self.floor_per_h();
        let month = |v: f64| {
            let whole = format!("{:.0}", v);
            let mut grouped = String::new();
            for (i, c) in whole.chars().enumerate() {
                if i > 0 && (whole.len() - i) % 3 == 0 {
                    grouped.push(',');
                }
                grouped.push(c);
            }
            format!("${grouped}")
        };
        let per_month = if (total.1 - total.0).abs() < 0.005 {
            month(total.0 * HOURS_PER_MONTH)
        } else {
            format!(
                "{}–{}",
                month(total.0 * HOURS_PER_MONTH),
                month(total.1 * HOURS_PER_MONTH)
            )
        };
        writeln!(
            f,
            "  floor of the whole app: {}/h, about {per_month} per month ({HOURS_PER_MONTH} h), \
             before any job runs",
            money(total),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{GpuChoice, Workers};
    use crate::deploy::manifest::ManifestEndpoint;

    fn manifest(configs: Vec<EndpointConfig>) -> Manifest {
        Manifest::build(
            "a",
            configs
                .into_iter()
                .map(|config| ManifestEndpoint::new("a::e", config))
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn the_floor_is_min_workers_at_the_active_price_times_gpus_or_vcpus() {
        let mut gpu = EndpointConfig::new("orchestrator");
        gpu.hardware = Hardware::Gpu {
            selection: vec![GpuChoice::Type("NVIDIA A100 80GB PCIe".into())].into(),
            count: 2,
            min_cuda_version: "12.8".into(),
        };
        gpu.workers = Workers { min: 3, max: 20 };
        let mut cpu = EndpointConfig::new("scrape");
        cpu.hardware = Hardware::Cpu {
            flavor: "cpu5c-4-8".into(),
        };
        cpu.workers = Workers { min: 2, max: 10 };
        let est = CostEstimate::of(&manifest(vec![gpu, cpu]));

        let a100 = catalog::price("AMPERE_80").unwrap();
        let cpu5c = catalog::price("cpu5c").unwrap();
        let o = &est.rows[0];
        let want = a100.active_per_s * 3600.0 * 2.0 * 3.0;
        assert!((o.floor_per_h().unwrap().0 - want).abs() < 1e-9);
        let ceiling = want + a100.flex_per_s * 3600.0 * 2.0 * 17.0;
        assert!((o.ceiling_per_h().unwrap().1 - ceiling).abs() < 1e-9);
        let s = &est.rows[1];
        let want_cpu = cpu5c.active_per_s * 3600.0 * 4.0 * 2.0;
        assert!((s.floor_per_h().unwrap().0 - want_cpu).abs() < 1e-9);
        assert!((est.floor_per_h().0 - (want + want_cpu)).abs() < 1e-9);

        let text = est.to_string();
        assert!(text.contains(catalog::PRICES_AS_OF), "{text}");
        assert!(text.contains("an estimate"), "{text}");
        assert!(
            text.contains(&format!("floor ${want:.2}/h (3 always-on)")),
            "{text}"
        );
    }

    #[test]
    fn a_multi_pool_selection_gives_a_range() {
        let mut c = EndpointConfig::new("embed");
        c.hardware = Hardware::Gpu {
            selection: vec![
                GpuChoice::Pool("ADA_24".into()),
                GpuChoice::Pool("AMPERE_24".into()),
            ]
            .into(),
            count: 1,
            min_cuda_version: "12.8".into(),
        };
        c.workers = Workers { min: 1, max: 5 };
        let est = CostEstimate::of(&manifest(vec![c]));
        let (lo, hi) = est.rows[0].floor_per_h().unwrap();
        let ada = catalog::price("ADA_24").unwrap().active_per_s * 3600.0;
        let amp = catalog::price("AMPERE_24").unwrap().active_per_s * 3600.0;
        assert!((lo - amp.min(ada)).abs() < 1e-9 && (hi - amp.max(ada)).abs() < 1e-9);
        assert!(est.to_string().contains(&format!("${:.2}–${:.2}", lo, hi)));
    }
}
