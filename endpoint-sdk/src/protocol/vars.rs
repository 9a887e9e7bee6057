//! Every environment variable the SDK reads or writes, each named once: those the SDK manages
//! (from `endpoint-config`, whose rules refuse them in `env(..)`), those the platform sets in a
//! worker container, and the SDK's own settings.

pub use endpoint_config::vars::{
    ENDPOINT_APP, ENDPOINT_ID_PREFIX, ENDPOINT_NAME, ENDPOINT_URL_PREFIX, RUNPOD_PREFIX,
    endpoint_suffix, id_var, is_managed, url_var,
};

/// The public API's base, up to `/v2` (default `https://api.runpod.ai/v2`).
pub const RUNPOD_ENDPOINT_BASE_URL: &str = "RUNPOD_ENDPOINT_BASE_URL";
/// The API key a client sends as `Authorization: Bearer <key>`.
pub const RUNPOD_API_KEY: &str = "RUNPOD_API_KEY";
/// `deploy`: the management API's base.
pub const RUNPOD_API_URL: &str = "RUNPOD_API_URL";

/// Worker: the job-take URL template.
pub const RUNPOD_WEBHOOK_GET_JOB: &str = "RUNPOD_WEBHOOK_GET_JOB";
/// Worker: the job-done URL template.
pub const RUNPOD_WEBHOOK_POST_OUTPUT: &str = "RUNPOD_WEBHOOK_POST_OUTPUT";
/// Worker: the job-stream URL template.
pub const RUNPOD_WEBHOOK_POST_STREAM: &str = "RUNPOD_WEBHOOK_POST_STREAM";
/// Worker: the heartbeat URL template.
pub const RUNPOD_WEBHOOK_PING: &str = "RUNPOD_WEBHOOK_PING";
/// Worker: the heartbeat interval, in ms.
pub const RUNPOD_PING_INTERVAL: &str = "RUNPOD_PING_INTERVAL";
/// Worker: the key it sends as the raw `Authorization` header.
pub const RUNPOD_AI_API_KEY: &str = "RUNPOD_AI_API_KEY";
/// Worker: its id.
pub const RUNPOD_POD_ID: &str = "RUNPOD_POD_ID";
/// Worker: the endpoint's platform id (when set, logs are JSON lines).
pub const RUNPOD_ENDPOINT_ID: &str = "RUNPOD_ENDPOINT_ID";
/// Worker: the log level.
pub const RUNPOD_LOG_LEVEL: &str = "RUNPOD_LOG_LEVEL";

/// Load-balancing worker: the app's port.
pub const PORT: &str = "PORT";
/// Load-balancing worker: the health check's port.
pub const PORT_HEALTH: &str = "PORT_HEALTH";
/// Load-balancing worker: the health check's path.
pub const HEALTH_CHECK_PATH: &str = "HEALTH_CHECK_PATH";

/// Worker: the port of its Prometheus `/metrics` (none when unset).
pub const ENDPOINT_METRICS_PORT: &str = "ENDPOINT_METRICS_PORT";

/// Sessions: the store (`redis://..`; memory when unset).
pub const SESSION_STORE_URL: &str = "SESSION_STORE_URL";
/// Sessions: how long an untouched session lives, in seconds.
pub const SESSION_TTL_S: &str = "SESSION_TTL_S";
/// Sessions: the most bytes a session may hold.
pub const SESSION_MAX_BYTES: &str = "SESSION_MAX_BYTES";

/// `app dev`: the address to listen on.
pub const ENDPOINT_DEV_HOST: &str = "ENDPOINT_DEV_HOST";
/// `app dev`: the port to listen on.
pub const ENDPOINT_DEV_PORT: &str = "ENDPOINT_DEV_PORT";
/// `app dev`: the API key it requires.
pub const ENDPOINT_DEV_API_KEY: &str = "ENDPOINT_DEV_API_KEY";
