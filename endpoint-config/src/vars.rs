//! The environment variables the SDK itself manages on a worker, so the rules can refuse them in
//! `env(..)` and `secrets = [..]`, and the runtime and `deploy` write and read the same names.

/// Selects which endpoint a binary with several serves (written by `deploy`).
pub const ENDPOINT_NAME: &str = "ENDPOINT_NAME";
/// Marks an endpoint with the application that deployed it (what `undeploy` may delete).
pub const ENDPOINT_APP: &str = "ENDPOINT_APP";
/// `ENDPOINT_ID_<NAME>`: the platform id of endpoint `<name>`, for calls to it.
pub const ENDPOINT_ID_PREFIX: &str = "ENDPOINT_ID_";
/// `ENDPOINT_URL_<NAME>`: a full base URL for calls to endpoint `<name>`.
pub const ENDPOINT_URL_PREFIX: &str = "ENDPOINT_URL_";
/// The prefix of the variables the platform sets itself.
pub const RUNPOD_PREFIX: &str = "RUNPOD_";

/// Whether the SDK writes `key` itself (a user must not set it).
pub fn is_managed(key: &str) -> bool {
    key == ENDPOINT_NAME
        || key == ENDPOINT_APP
        || key.starts_with(ENDPOINT_ID_PREFIX)
        || key.starts_with(ENDPOINT_URL_PREFIX)
}

/// The suffix naming endpoint `name` in a variable (`web-retrieval` → `WEB_RETRIEVAL`).
pub fn endpoint_suffix(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// The variable holding endpoint `name`'s id (`web-retrieval` → `ENDPOINT_ID_WEB_RETRIEVAL`).
pub fn id_var(name: &str) -> String {
    format!("{ENDPOINT_ID_PREFIX}{}", endpoint_suffix(name))
}

/// The variable holding endpoint `name`'s full URL.
pub fn url_var(name: &str) -> String {
    format!("{ENDPOINT_URL_PREFIX}{}", endpoint_suffix(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn managed_names_and_endpoint_variables() {
        assert!(is_managed("ENDPOINT_NAME") && is_managed("ENDPOINT_ID_X"));
        assert!(!is_managed("HF_HOME"));
        assert_eq!(id_var("web-retrieval"), "ENDPOINT_ID_WEB_RETRIEVAL");
        assert_eq!(url_var("embed.v2"), "ENDPOINT_URL_EMBED_V2");
    }
}
