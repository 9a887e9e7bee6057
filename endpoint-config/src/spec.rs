//! An endpoint's configuration as written: every value as the user spelled it, with the span of
//! its token, before any rule is applied. The attribute parser fills one from tokens
//! (`parse`, feature `syn`); [`crate::EndpointConfig::to_spec`] builds one from a config so the
//! same rules can check configs built in code.

/// A value and where it was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spanned<T, S> {
    /// The value.
    pub value: T,
    /// Its token.
    pub span: S,
}

impl<T, S> Spanned<T, S> {
    /// Pairs a value with its span.
    pub fn new(value: T, span: S) -> Self {
        Spanned { value, span }
    }
}

/// A name as written (`NVIDIA_L4`, `"EU-RO-1"`, ...).
pub type Name<S> = Spanned<String, S>;
/// An integer as written; wide enough to hold any literal a user types, negative ones included.
pub type Int<S> = Spanned<i128, S>;

/// The attribute's settings, as written.
#[derive(Debug, Clone)]
pub struct Spec<S> {
    /// The handler function's name (the default endpoint name).
    pub fn_name: Name<S>,
    /// The attribute as a whole, for problems about a missing setting.
    pub attr_span: S,
    /// `name = ".."`
    pub name: Option<Name<S>>,
    /// `gpu = X` or `gpu = [X, Y]`
    pub gpu: Option<NameList<S>>,
    /// `cpu = ".."`
    pub cpu: Option<Name<S>>,
    /// `gpu_count = N`
    pub gpu_count: Option<Int<S>>,
    /// `workers = N` or `workers = (min, max)`
    pub workers: Option<WorkersSpec<S>>,
    /// `idle_timeout = seconds`
    pub idle_timeout: Option<Int<S>>,
    /// `execution_timeout_ms = ms`
    pub execution_timeout_ms: Option<Int<S>>,
    /// `concurrency = N`
    pub concurrency: Option<Int<S>>,
    /// `scaler = queue_delay(N)` / `request_count(N)`
    pub scaler: Option<ScalerSpec<S>>,
    /// `datacenter = X` or `datacenter = [X, Y]`
    pub datacenter: Option<NameList<S>>,
    /// `volume(name = .., size = .., datacenter = ..)`, possibly repeated.
    pub volumes: Vec<VolumeSpec<S>>,
    /// `model(..)`: what a worker holds in GPU memory.
    pub model: Option<ModelWritten<S>>,
    /// `env(KEY = "value", ..)`
    pub env: Vec<(Name<S>, Name<S>)>,
    /// `secrets = [KEY, ..]`
    pub secrets: Vec<Name<S>>,
    /// `flashboot = bool`
    pub flashboot: Option<Spanned<bool, S>>,
    /// `min_cuda_version = "12.8"`
    pub min_cuda_version: Option<Name<S>>,
    /// `min_vram_gb = N`
    pub min_vram_gb: Option<Int<S>>,
    /// `interactive` / `interactive = bool`
    pub interactive: Option<Spanned<bool, S>>,
    /// `plain_input` / `plain_input = bool`
    pub plain_input: Option<Spanned<bool, S>>,
    /// `calls = [a, b]`: as written (function names in the attribute, endpoint names at run time).
    pub calls: Vec<Name<S>>,
    /// `init = path`
    pub init: Option<Name<S>>,
    /// `max_steps = N`
    pub max_steps: Option<Int<S>>,
    /// `allow(rule, ..)`
    pub allow: Vec<Name<S>>,
    /// Set when the function builds an HTTP app (returns an axum `Router`): a load-balancing
    /// endpoint. The span is the return type's.
    pub load_balancer: Option<S>,
    /// `port = N` (load-balancing endpoints)
    pub port: Option<Int<S>>,
    /// `health_port = N` (load-balancing endpoints)
    pub health_port: Option<Int<S>>,
    /// `health_path = "/ping"` (load-balancing endpoints)
    pub health_path: Option<Name<S>>,
    /// The paths the app builder's body routes (`.route("/path", ..)` with a literal path), as
    /// far as the macro can see them.
    pub app_routes: Vec<Name<S>>,
}

impl<S: Copy> Spec<S> {
    /// A spec with nothing set.
    pub fn new(fn_name: Name<S>, attr_span: S) -> Self {
        Spec {
            fn_name,
            attr_span,
            name: None,
            gpu: None,
            cpu: None,
            gpu_count: None,
            workers: None,
            idle_timeout: None,
            execution_timeout_ms: None,
            concurrency: None,
            scaler: None,
            datacenter: None,
            volumes: Vec::new(),
            model: None,
            env: Vec::new(),
            secrets: Vec::new(),
            flashboot: None,
            min_cuda_version: None,
            min_vram_gb: None,
            interactive: None,
            plain_input: None,
            calls: Vec::new(),
            init: None,
            max_steps: None,
            allow: Vec::new(),
            load_balancer: None,
            port: None,
            health_port: None,
            health_path: None,
            app_routes: Vec::new(),
        }
    }
}

/// One name or a bracketed list of names.
#[derive(Debug, Clone)]
pub struct NameList<S> {
    /// The names, in order.
    pub items: Vec<Name<S>>,
    /// Whether it was written as a list (`[..]`).
    pub is_list: bool,
    /// The whole value.
    pub span: S,
}

/// `workers = N` or `workers = (min, max)`.
#[derive(Debug, Clone)]
pub struct WorkersSpec<S> {
    /// The minimum, when written as a pair.
    pub min: Option<Int<S>>,
    /// The maximum.
    pub max: Int<S>,
    /// The whole value.
    pub span: S,
}

/// `scaler = kind(value)`.
#[derive(Debug, Clone)]
pub struct ScalerSpec<S> {
    /// `queue_delay` or `request_count`, as written.
    pub kind: Name<S>,
    /// The value.
    pub value: Int<S>,
    /// The whole value.
    pub span: S,
}

/// `model(preset = .., weights = .., kv = .., context = .., sessions = ..)`, or the model's
/// figures given directly (`params_m`, `layers`, `kv_heads`, `head_dim`).
#[derive(Debug, Clone)]
pub struct ModelWritten<S> {
    /// `preset = LLAMA_3_1_70B`
    pub preset: Option<Name<S>>,
    /// `params_m = 70_550`: parameters, in millions.
    pub params_m: Option<Int<S>>,
    /// `embedding_params_m = 2_101`: of those, the embedding and output matrices (kept at 16
    /// bits when quantized).
    pub embedding_params_m: Option<Int<S>>,
    /// `layers = 80`
    pub layers: Option<Int<S>>,
    /// `kv_heads = 8`
    pub kv_heads: Option<Int<S>>,
    /// `head_dim = 128`
    pub head_dim: Option<Int<S>>,
    /// `weights = int4`: the weights' precision (a name, or bits).
    pub weights: Option<Name<S>>,
    /// `kv = fp16`: the KV cache's precision.
    pub kv: Option<Name<S>>,
    /// `context = 16_384`: tokens per session.
    pub context: Option<Int<S>>,
    /// `sessions = 8`: sessions a worker serves at once.
    pub sessions: Option<Int<S>>,
    /// The whole `model(..)`.
    pub span: S,
}

/// `volume(name = .., size = .., datacenter = ..)`.
#[derive(Debug, Clone)]
pub struct VolumeSpec<S> {
    /// `name = ".."`
    pub name: Option<Name<S>>,
    /// `size = GB`
    pub size: Option<Int<S>>,
    /// `datacenter = X`
    pub datacenter: Option<Name<S>>,
    /// The whole `volume(..)`.
    pub span: S,
}
