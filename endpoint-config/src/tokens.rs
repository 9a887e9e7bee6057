//! An [`EndpointConfig`] as a `const` expression (feature `syn`): the macro bakes the validated
//! config into the binary as `&EndpointConfig { .. }`, borrowing every string and list.
//!
//! Every struct here is destructured without `..`, so a field added to the model and forgotten
//! here is a compile error in this file rather than a config silently missing from the binary.

use proc_macro2::TokenStream;
use quote::quote;

use crate::model::{
    EndpointConfig, EndpointKind, EnvVar, GpuChoice, Hardware, LoadBalancer, NetworkVolume, Scaler,
    Workers,
};

/// `&EndpointConfig { .. }` for `c`, naming the model's types under `cfg` (the path generated
/// code reaches `endpoint_config` by). `calls` are the callee name expressions, in order: the
/// macro writes `<callee as Endpoint>::NAME`, so a renamed callee is followed.
pub fn config_expr(c: &EndpointConfig, cfg: &TokenStream, calls: &[TokenStream]) -> TokenStream {
    let EndpointConfig {
        name,
        kind,
        hardware,
        workers: Workers { min, max },
        idle_timeout_s,
        execution_timeout_ms,
        concurrency,
        scaler,
        datacenters,
        volumes,
        env,
        secrets,
        flashboot,
        min_vram_gb,
        model,
        interactive,
        plain_input,
        calls: _,
        has_init,
        max_steps,
        allow,
    } = c;
    let name = cow_str(name);
    let kind = kind_expr(kind, cfg);
    let hardware = hardware_expr(hardware, cfg);
    let execution_timeout_ms = option(*execution_timeout_ms);
    let scaler = match scaler {
        Scaler::QueueDelay(v) => quote!(#cfg::Scaler::QueueDelay(#v)),
        Scaler::RequestCount(v) => quote!(#cfg::Scaler::RequestCount(#v)),
    };
    let datacenters = strings(datacenters);
    let volumes = cow_slice(volumes.iter().map(|v| {
        let NetworkVolume {
            name,
            size_gb,
            datacenter,
        } = v;
        let (name, datacenter) = (cow_str(name), cow_str(datacenter));
        quote!(#cfg::NetworkVolume { name: #name, size_gb: #size_gb, datacenter: #datacenter })
    }));
    let env = cow_slice(env.iter().map(|e| {
        let EnvVar { key, value } = e;
        let (key, value) = (cow_str(key), cow_str(value));
        quote!(#cfg::EnvVar { key: #key, value: #value })
    }));
    let secrets = strings(secrets);
    let min_vram_gb = option(*min_vram_gb);
    let model = match model {
        None => quote!(::core::option::Option::None),
        Some(m) => {
            let crate::budget::ModelSpec {
                preset,
                params_m,
                embedding_params_m,
                layers,
                kv_heads,
                head_dim,
                weight_bits,
                kv_bits,
                context,
                sessions,
            } = m;
            let preset = match preset {
                Some(p) => {
                    let p = cow_str(p);
                    quote!(::core::option::Option::Some(#p))
                }
                None => quote!(::core::option::Option::None),
            };
            quote!(::core::option::Option::Some(#cfg::ModelSpec {
                preset: #preset, params_m: #params_m, embedding_params_m: #embedding_params_m,
                layers: #layers, kv_heads: #kv_heads,
                head_dim: #head_dim, weight_bits: #weight_bits, kv_bits: #kv_bits,
                context: #context, sessions: #sessions,
            }))
        }
    };
    let calls = cow_slice(
        calls
            .iter()
            .map(|c| quote!(::std::borrow::Cow::Borrowed(#c))),
    );
    let max_steps = option(*max_steps);
    let allow = strings(allow);
    quote! {
        &#cfg::EndpointConfig {
            name: #name,
            kind: #kind,
            hardware: #hardware,
            workers: #cfg::Workers { min: #min, max: #max },
            idle_timeout_s: #idle_timeout_s,
            execution_timeout_ms: #execution_timeout_ms,
            concurrency: #concurrency,
            scaler: #scaler,
            datacenters: #datacenters,
            volumes: #volumes,
            env: #env,
            secrets: #secrets,
            flashboot: #flashboot,
            min_vram_gb: #min_vram_gb,
            model: #model,
            interactive: #interactive,
            plain_input: #plain_input,
            calls: #calls,
            has_init: #has_init,
            max_steps: #max_steps,
            allow: #allow,
        }
    }
}

fn kind_expr(kind: &EndpointKind, cfg: &TokenStream) -> TokenStream {
    match kind {
        EndpointKind::Queue => quote!(#cfg::EndpointKind::Queue),
        EndpointKind::LoadBalancer(LoadBalancer {
            port,
            health_port,
            health_path,
        }) => {
            let health_path = cow_str(health_path);
            quote!(#cfg::EndpointKind::LoadBalancer(#cfg::LoadBalancer {
                port: #port, health_port: #health_port, health_path: #health_path
            }))
        }
    }
}

fn hardware_expr(hardware: &Hardware, cfg: &TokenStream) -> TokenStream {
    match hardware {
        Hardware::Gpu {
            selection,
            count,
            min_cuda_version,
        } => {
            let selection = cow_slice(selection.iter().map(|g| match g {
                GpuChoice::Any => quote!(#cfg::GpuChoice::Any),
                GpuChoice::Pool(p) => {
                    let p = cow_str(p);
                    quote!(#cfg::GpuChoice::Pool(#p))
                }
                GpuChoice::Type(t) => {
                    let t = cow_str(t);
                    quote!(#cfg::GpuChoice::Type(#t))
                }
            }));
            let cuda = cow_str(min_cuda_version);
            quote!(#cfg::Hardware::Gpu { selection: #selection, count: #count, min_cuda_version: #cuda })
        }
        Hardware::Cpu { flavor } => {
            let flavor = cow_str(flavor);
            quote!(#cfg::Hardware::Cpu { flavor: #flavor })
        }
    }
}

fn option<T: quote::ToTokens>(v: Option<T>) -> TokenStream {
    match v {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    }
}

fn cow_str(s: &str) -> TokenStream {
    quote!(::std::borrow::Cow::Borrowed(#s))
}

fn strings(items: &[std::borrow::Cow<'static, str>]) -> TokenStream {
    cow_slice(items.iter().map(|s| cow_str(s)))
}

fn cow_slice(items: impl Iterator<Item = TokenStream>) -> TokenStream {
    quote!(::std::borrow::Cow::Borrowed(&[#(#items),*]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::List;

    fn full_config() -> EndpointConfig {
        EndpointConfig {
            hardware: Hardware::Gpu {
                selection: List::Owned(vec![
                    GpuChoice::Type("NVIDIA A100 80GB PCIe".into()),
                    GpuChoice::Pool("AMPERE_80".into()),
                ]),
                count: 2,
                min_cuda_version: "12.4".into(),
            },
            execution_timeout_ms: Some(120_000),
            datacenters: List::Owned(vec!["US-KS-2".into()]),
            volumes: List::Owned(vec![NetworkVolume {
                name: "weights".into(),
                size_gb: 200,
                datacenter: "US-KS-2".into(),
            }]),
            env: List::Owned(vec![EnvVar {
                key: "HF_HOME".into(),
                value: "/runpod-volume/hf".into(),
            }]),
            secrets: List::Owned(vec!["HF_TOKEN".into()]),
            min_vram_gb: Some(120),
            max_steps: Some(8),
            allow: List::Owned(vec!["high_concurrency".into()]),
            ..EndpointConfig::new("agent")
        }
    }

    #[test]
    fn every_field_of_the_model_is_written() {
        let c = full_config();
        let expr = config_expr(&c, &quote!(cfg), &[quote!(SCRAPE)]);
        let syn::Expr::Reference(r) = syn::parse2::<syn::Expr>(expr).expect("an expression") else {
            panic!("expected `&EndpointConfig {{ .. }}`");
        };
        let syn::Expr::Struct(s) = *r.expr else {
            panic!("expected a struct expression");
        };
        let written: Vec<String> = s
            .fields
            .iter()
            .map(|f| quote::ToTokens::to_token_stream(&f.member).to_string())
            .collect();
        let json = serde_json::to_value(&c).unwrap();
        let model: Vec<&String> = json.as_object().unwrap().keys().collect();
        let mut written_sorted = written.clone();
        written_sorted.sort();
        let mut model_sorted: Vec<String> = model.into_iter().cloned().collect();
        model_sorted.sort();
        assert_eq!(written_sorted, model_sorted);
    }

    #[test]
    fn values_are_written_as_borrowed_literals() {
        let text = config_expr(&full_config(), &quote!(cfg), &[quote!(SCRAPE)]).to_string();
        for needle in [
            "\"NVIDIA A100 80GB PCIe\"",
            "cfg :: GpuChoice :: Pool",
            "count : 2u32",
            "Some (120000u64)",
            "size_gb : 200u32",
            "\"/runpod-volume/hf\"",
            "Borrowed (SCRAPE)",
            "max_steps : :: core :: option :: Option :: Some (8u32)",
            "cfg :: Scaler :: QueueDelay (4u32)",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in {text}");
        }
        let unbounded = EndpointConfig {
            execution_timeout_ms: None,
            ..EndpointConfig::new("e")
        };
        let cpu = config_expr(&unbounded, &quote!(cfg), &[]).to_string();
        assert!(cpu.contains("cfg :: Hardware :: Cpu"), "{cpu}");
        assert!(cpu.contains("execution_timeout_ms : :: core :: option :: Option :: None"));
    }
}
