//! Endpoints not built with this SDK, called with the same guarantees as any callee: a
//! worker-vllm endpoint's OpenAI-compatible route, any OpenAI-compatible server (a vLLM beside
//! the orchestrator, a hosted API), an existing endpoint id.
//!
//! `#[external(..)]` on a unit struct declares one:
//!
//! ```
//! use endpoint_sdk::external;
//! # extern crate endpoint_sdk;
//!
//! /// worker-vllm serving the reasoning model, deployed from Runpod's hub.
//! #[external(
//!     api = openai,
//!     id = env("LLM_ENDPOINT_ID"),      // its Runpod endpoint id (read at deploy and run time)
//!     url = env("LLM_BASE_URL"),        // or any OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1
//!     model = env("LLM_MODEL"),
//!     execution_timeout_ms = 100_000,
//! )]
//! pub struct reasoning_model;
//!
//! assert_eq!(<reasoning_model as endpoint_sdk::AnyEndpoint>::NAME, "reasoning_model");
//! ```
//!
//! A caller lists it in `calls = [..]` like any endpoint (its ceiling must fit in the caller's,
//! checked at compile time) and calls it with `reasoning_model::chat(&ctx)`
//! ([`ChatRequest`](crate::client::ChatRequest)): each request is a step of the caller's
//! `max_steps`, bounded by its deadline and cancelled with it, retried only while no token has
//! reached the caller, recorded in its trace, and streamed token by token. `app deploy` writes
//! the external's id into each caller's `ENDPOINT_ID_<NAME>`, as it does for callees it creates;
//! it never creates or changes the external endpoint itself.
//!
//! ## Where the requests go
//!
//! In this order, the first that is set:
//!
//! 1. `ENDPOINT_URL_<NAME>`, or the attribute's `url`: an OpenAI-compatible base URL, up to
//!    `/v1` (the key is the attribute's `key`, else `RUNPOD_API_KEY`);
//! 2. `ENDPOINT_ID_<NAME>` (what `app deploy` writes), or the attribute's `id`: the platform's
//!    `{RUNPOD_ENDPOINT_BASE_URL}/{id}/openai/v1` (by default `https://api.runpod.ai/v2/...`),
//!    with `RUNPOD_API_KEY`.
//!
//! With neither, a call fails with [`ChatError::NotConfigured`](crate::client::ChatError),
//! naming the variables to set; [`ExternalSpec::address`] tells a caller beforehand.

use endpoint_config::EndpointConfig;

use crate::endpoint::AnyEndpoint;
use crate::protocol::vars::{self, endpoint_suffix};

/// The API an external endpoint speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExternalApi {
    /// OpenAI's chat completions (`POST {base}/chat/completions`), streamed as server-sent
    /// events: worker-vllm's `/openai/v1` route, vLLM, SGLang, TGI, hosted APIs.
    OpenAi,
}

impl ExternalApi {
    /// Its name in the attribute and the manifest.
    pub fn as_str(self) -> &'static str {
        match self {
            ExternalApi::OpenAi => "openai",
        }
    }
}

/// A value written in the attribute: a literal, or the first set one of environment variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// `"value"`.
    Literal(&'static str),
    /// `env("VAR", "OTHER_VAR")`: read when needed (at deploy time for the id, at run time for
    /// the rest).
    Env(&'static [&'static str]),
}

impl Setting {
    /// The value: the literal, or the first variable set to something other than blanks.
    pub fn get(&self) -> Option<String> {
        match self {
            Setting::Literal(v) => Some((*v).to_string()),
            Setting::Env(names) => names.iter().find_map(|n| {
                std::env::var(n)
                    .ok()
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
            }),
        }
    }

    /// How it is written, for messages: `"value"` or `env LLM_BASE_URL`.
    pub fn describe(&self) -> String {
        match self {
            Setting::Literal(v) => format!("\"{v}\""),
            Setting::Env(names) => names.join(" or "),
        }
    }
}

/// Where an external endpoint's requests go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// The API's base URL, up to `/v1` for OpenAI's.
    pub base: String,
    /// The bearer token sent with each request.
    pub key: Option<String>,
    /// The platform endpoint id, when the address is the platform's.
    pub id: Option<String>,
}

/// An external endpoint as `#[external(..)]` declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExternalSpec {
    /// Its name (`name = "..."`, or the struct's).
    pub name: &'static str,
    /// The API it speaks.
    pub api: ExternalApi,
    /// Its platform endpoint id.
    pub id: Option<Setting>,
    /// A base URL that takes precedence over the id.
    pub url: Option<Setting>,
    /// The bearer token for `url` (the platform's routes use `RUNPOD_API_KEY`).
    pub key: Option<Setting>,
    /// The model to ask for, unless a request names one.
    pub model: Option<Setting>,
}

impl ExternalSpec {
    /// The endpoint id: `ENDPOINT_ID_<NAME>` (written by `app deploy`), else the attribute's.
    pub fn endpoint_id(&self) -> Option<String> {
        env_nonempty(&vars::id_var(self.name)).or_else(|| self.id.as_ref().and_then(Setting::get))
    }

    /// The base URL given directly: `ENDPOINT_URL_<NAME>`, else the attribute's `url`.
    pub fn url(&self) -> Option<String> {
        env_nonempty(&format!(
            "{}{}",
            vars::ENDPOINT_URL_PREFIX,
            endpoint_suffix(self.name)
        ))
        .or_else(|| self.url.as_ref().and_then(Setting::get))
    }

    /// Where requests go now (see the module docs), or `None` when nothing says.
    pub fn address(&self) -> Option<Address> {
        let runpod_key = env_nonempty(vars::RUNPOD_API_KEY);
        if let Some(url) = self.url() {
            let key = self.key.as_ref().and_then(Setting::get).or(runpod_key);
            return Some(Address {
                base: url.trim_end_matches('/').to_string(),
                key,
                id: None,
            });
        }
        let id = self.endpoint_id()?;
        let api = env_nonempty(vars::RUNPOD_ENDPOINT_BASE_URL)
            .unwrap_or_else(|| "https://api.runpod.ai/v2".to_string());
        Some(Address {
            base: format!("{}/{id}/openai/v1", api.trim_end_matches('/')),
            key: runpod_key,
            id: Some(id),
        })
    }

    /// The model requests ask for, unless they name one.
    pub fn model(&self) -> Option<String> {
        self.model.as_ref().and_then(Setting::get)
    }

    /// What to set so that requests have somewhere to go.
    pub fn how_to_configure(&self) -> String {
        let suffix = endpoint_suffix(self.name);
        let mut ways = vec![
            format!(
                "{}{suffix} (its platform endpoint id)",
                vars::ENDPOINT_ID_PREFIX
            ),
            format!(
                "{}{suffix} (an OpenAI-compatible base URL, up to /v1)",
                vars::ENDPOINT_URL_PREFIX
            ),
        ];
        for (what, s) in [("id", &self.id), ("url", &self.url)] {
            if let Some(Setting::Env(names)) = s {
                ways.push(format!("{} (its `{what}`)", names.join(" or ")));
            }
        }
        format!("set {}", ways.join(", or "))
    }
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// An endpoint not built with this SDK. Implemented by `#[external(..)]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an external endpoint",
    label = "not declared with `#[external(..)]`"
)]
pub trait External: AnyEndpoint {
    /// How it is reached.
    const SPEC: ExternalSpec;
}

/// One external endpoint's entry in the link-time registry. Created by `#[external]`.
#[doc(hidden)]
pub struct ExternalRegistration {
    pub(crate) spec: &'static ExternalSpec,
    pub(crate) config: &'static EndpointConfig,
}

impl ExternalRegistration {
    /// The registration of external endpoint `E`.
    pub const fn of<E: External>() -> Self {
        ExternalRegistration {
            spec: &E::SPEC,
            config: E::CONFIG,
        }
    }
}

inventory::collect!(ExternalRegistration);

/// Every external endpoint linked into the binary, by name.
pub fn externals() -> Vec<(&'static ExternalSpec, &'static EndpointConfig)> {
    let mut all: Vec<_> = inventory::iter::<ExternalRegistration>
        .into_iter()
        .map(|r| (r.spec, r.config))
        .collect();
    all.sort_by_key(|(s, _)| s.name);
    all
}

/// The external endpoint named `name`, if the binary declares one.
pub fn find(name: &str) -> Option<&'static ExternalSpec> {
    inventory::iter::<ExternalRegistration>
        .into_iter()
        .map(|r| r.spec)
        .find(|s| s.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: ExternalSpec = ExternalSpec {
        name: "reasoning-model-unit",
        api: ExternalApi::OpenAi,
        id: Some(Setting::Literal("abc123")),
        url: Some(Setting::Env(&["EXTERNAL_UNIT_TEST_URL_UNSET"])),
        key: None,
        model: Some(Setting::Literal("llama")),
    };

    #[test]
    fn an_id_gives_the_platforms_openai_route() {
        let a = SPEC.address().expect("the literal id");
        assert!(a.base.ends_with("/abc123/openai/v1"), "{}", a.base);
        assert_eq!(a.id.as_deref(), Some("abc123"));
        assert_eq!(SPEC.model().as_deref(), Some("llama"));
    }

    #[test]
    fn without_an_address_the_message_names_what_to_set() {
        let spec = ExternalSpec { id: None, ..SPEC };
        assert_eq!(spec.address(), None);
        let how = spec.how_to_configure();
        assert!(how.contains("ENDPOINT_ID_REASONING_MODEL_UNIT"), "{how}");
        assert!(how.contains("ENDPOINT_URL_REASONING_MODEL_UNIT"), "{how}");
        assert!(how.contains("EXTERNAL_UNIT_TEST_URL_UNSET"), "{how}");
    }
}
