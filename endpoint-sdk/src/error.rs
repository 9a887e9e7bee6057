//! The SDK's top-level error, returned by [`crate::main`].

/// What can stop the SDK's command-line entry point.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The endpoints in this binary are inconsistent.
    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),
    /// Reading or writing failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A command was used wrongly; the message says how to use it.
    #[error("{0}")]
    Usage(String),
}

/// `Result` with the SDK's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
