//! Every key the `#[endpoint(..)]` attribute accepts, defined once: its name, how its value is
//! written, an example, and the spellings other tools use for it. The parser reads this table for
//! unknown-key suggestions and error examples; the docs' attribute table is tested against it.
//!
//! ```
//! use endpoint_config::keys;
//!
//! let key = keys::find("workers").unwrap();
//! assert_eq!(key.example, "workers = (1, 10)");
//! assert_eq!(keys::renamed("max_workers").unwrap().name, "workers");
//! ```

/// How a key is written in the attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `key = value`.
    Assign,
    /// `key` alone (true), or `key = true`/`false`.
    Flag,
    /// `key(..)`: a list in parentheses.
    Parens,
}

/// One key of the attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// The key as written, e.g. `execution_timeout_ms`.
    pub name: &'static str,
    /// How it is written.
    pub shape: Shape,
    /// What its value is, in words (the docs' "value" column).
    pub value: &'static str,
    /// A complete setting, shown in errors as `e.g. ..`.
    pub example: &'static str,
    /// Names other tools (Runpod Flash, the REST API) use for this setting; an unknown key with
    /// one of these names is answered with this key's name.
    pub aliases: &'static [&'static str],
    /// Whether the key may appear more than once (`volume(..)`).
    pub repeatable: bool,
}

const fn key(name: &'static str, value: &'static str, example: &'static str) -> Key {
    Key {
        name,
        shape: Shape::Assign,
        value,
        example,
        aliases: &[],
        repeatable: false,
    }
}

impl Key {
    const fn shape(mut self, shape: Shape) -> Self {
        self.shape = shape;
        self
    }

    const fn aliases(mut self, aliases: &'static [&'static str]) -> Self {
        self.aliases = aliases;
        self
    }

    const fn repeatable(mut self) -> Self {
        self.repeatable = true;
        self
    }
}

/// Every key, in the order the docs list them (and errors list them as "valid keys").
pub const KEYS: &[Key] = &[
    key("name", "the endpoint's name", "name = \"web-retrieval\""),
    key(
        "gpu",
        "a GPU type, a pool, `ANY`, or a priority list",
        "gpu = NVIDIA_GEFORCE_RTX_4090",
    ),
    key("cpu", "a CPU flavor", "cpu = \"cpu5c-4-8\""),
    key("gpu_count", "GPUs per worker", "gpu_count = 2"),
    key("workers", "`N` or `(min, max)`", "workers = (1, 10)")
        .aliases(&["min_workers", "max_workers"]),
    key("idle_timeout", "seconds", "idle_timeout = 300").aliases(&["idle_timeout_s"]),
    key(
        "execution_timeout_ms",
        "milliseconds",
        "execution_timeout_ms = 30_000",
    )
    .aliases(&["execution_timeout", "timeout", "timeout_ms"]),
    key("concurrency", "jobs per worker", "concurrency = 4").aliases(&["max_concurrency"]),
    key(
        "scaler",
        "`queue_delay(N)` or `request_count(N)`",
        "scaler = queue_delay(4)",
    )
    .aliases(&["scaler_type", "scaler_value"]),
    key(
        "datacenter",
        "a data center or a list",
        "datacenter = EU_RO_1",
    )
    .aliases(&["datacenters", "data_center"]),
    key(
        "volume",
        "`volume(name = .., size = .., datacenter = ..)`",
        "volume(name = \"model-weights\", size = 200, datacenter = EU_RO_1)",
    )
    .shape(Shape::Parens)
    .aliases(&["volumes", "network_volume"])
    .repeatable(),
    key(
        "env",
        "`env(KEY = \"value\", ..)`",
        "env(HF_HOME = \"/runpod-volume/hf\")",
    )
    .shape(Shape::Parens),
    key(
        "secrets",
        "a list of variable names",
        "secrets = [HF_TOKEN]",
    ),
    key("flashboot", "`true` or `false`", "flashboot = true").shape(Shape::Flag),
    key(
        "min_cuda_version",
        "a CUDA version",
        "min_cuda_version = \"12.8\"",
    )
    .aliases(&["cuda"]),
    key("min_vram_gb", "GB per worker", "min_vram_gb = 40").aliases(&["vram", "min_vram"]),
    key(
        "model",
        "`model(preset = .., weights = .., kv = .., context = .., sessions = ..)`",
        "model(preset = LLAMA_3_3_70B, weights = int4, context = 16_384, sessions = 6)",
    )
    .shape(Shape::Parens)
    .aliases(&["llm", "model_name"]),
    key("interactive", "a flag", "interactive = true").shape(Shape::Flag),
    key("plain_input", "a flag", "plain_input = true").shape(Shape::Flag),
    key(
        "calls",
        "a list of endpoint functions",
        "calls = [scrape, embed_search]",
    ),
    key("init", "a function", "init = load_model"),
    key("max_steps", "calls one job may make", "max_steps = 50")
        .aliases(&["step_budget", "max_calls"]),
    key("port", "the app's port (load-balancing)", "port = 8080"),
    key(
        "health_port",
        "the health check's port (load-balancing)",
        "health_port = 8081",
    )
    .aliases(&["port_health"]),
    key(
        "health_path",
        "the health check's path (load-balancing)",
        "health_path = \"/healthz\"",
    )
    .aliases(&["health_check_path"]),
    key(
        "allow",
        "`allow(rule, ..)`",
        "allow(gpu_without_vram_floor)",
    )
    .shape(Shape::Parens),
    key("crate", "a path", "crate = \"my_sdk\""),
];

/// The keys inside `volume(..)`.
pub const VOLUME_KEYS: &[Key] = &[
    key("name", "the volume's name", "name = \"model-weights\""),
    key("size", "GB", "size = 200").aliases(&["size_gb"]),
    key("datacenter", "a data center", "datacenter = EU_RO_1"),
];

/// The keys inside `model(..)`.
pub const MODEL_KEYS: &[Key] = &[
    key("preset", "a model of the catalog", "preset = LLAMA_3_1_8B").aliases(&["name", "id"]),
    key("params_m", "parameters, in millions", "params_m = 8_030").aliases(&["params"]),
    key(
        "embedding_params_m",
        "embedding and output parameters, in millions",
        "embedding_params_m = 1_051",
    ),
    key("layers", "transformer layers", "layers = 32").aliases(&["num_hidden_layers"]),
    key("kv_heads", "key/value heads", "kv_heads = 8").aliases(&["num_key_value_heads"]),
    key("head_dim", "size of one head", "head_dim = 128"),
    key("weights", "a precision or bits", "weights = int4").aliases(&[
        "dtype",
        "quantization",
        "precision",
    ]),
    key("kv", "the KV cache's precision", "kv = fp8").aliases(&["kv_cache_dtype", "kv_dtype"]),
    key("context", "tokens per session", "context = 16_384").aliases(&[
        "max_model_len",
        "context_length",
        "ctx",
    ]),
    key("sessions", "sessions at once", "sessions = 8").aliases(&["max_num_seqs"]),
];

/// The key named `name`, if the attribute has one.
pub fn find(name: &str) -> Option<&'static Key> {
    find_in(KEYS, name)
}

/// The key that other tools call `name` (`max_workers` → `workers`).
pub fn renamed(name: &str) -> Option<&'static Key> {
    renamed_in(KEYS, name)
}

/// The key of `table` named `name`.
pub fn find_in(table: &'static [Key], name: &str) -> Option<&'static Key> {
    table.iter().find(|k| k.name == name)
}

/// The key of `table` that has `name` among its aliases.
pub fn renamed_in(table: &'static [Key], name: &str) -> Option<&'static Key> {
    table.iter().find(|k| k.aliases.contains(&name))
}

/// Every key's name, in order.
pub fn names() -> impl Iterator<Item = &'static str> {
    KEYS.iter().map(|k| k.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases_are_unique_and_distinct() {
        for table in [KEYS, VOLUME_KEYS] {
            let mut seen: Vec<&str> = Vec::new();
            for k in table {
                for n in std::iter::once(&k.name).chain(k.aliases) {
                    assert!(!seen.contains(n), "`{n}` appears twice");
                    seen.push(n);
                }
            }
        }
    }

    #[test]
    fn every_example_sets_its_own_key() {
        for k in KEYS.iter().chain(VOLUME_KEYS) {
            let rest = k.example.strip_prefix(k.name).unwrap_or_else(|| {
                panic!("`{}`'s example `{}` sets another key", k.name, k.example)
            });
            let expected = match k.shape {
                Shape::Parens => "(",
                Shape::Assign | Shape::Flag => " = ",
            };
            assert!(rest.starts_with(expected), "{}: {}", k.name, k.example);
        }
    }

    #[test]
    fn lookups_follow_the_table() {
        assert_eq!(find("volume").map(|k| k.shape), Some(Shape::Parens));
        assert!(find("volume").is_some_and(|k| k.repeatable));
        assert!(find("max_workers").is_none());
        assert_eq!(
            renamed("timeout").map(|k| k.name),
            Some("execution_timeout_ms")
        );
        assert_eq!(
            renamed_in(VOLUME_KEYS, "size_gb").map(|k| k.name),
            Some("size")
        );
        assert!(renamed("workers").is_none());
    }

    /// The README's attribute table has one row per key, in the table's order.
    #[test]
    fn the_readme_documents_every_key_in_order() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
            .expect("README.md at the workspace root");
        let documented: Vec<&str> = readme
            .lines()
            .skip_while(|l| !l.starts_with("| key | value |"))
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .filter_map(|l| l.strip_prefix("| `")?.split_once('`').map(|(k, _)| k))
            .collect();
        let expected: Vec<&str> = names().collect();
        assert_eq!(documented, expected);
    }
}
