//! The SDK's top-level error, returned by [`crate::main`].

/// What can stop the SDK's command-line entry point.
#[derive(thiserror::Error)]
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
    /// The worker could not start or run.
    #[error(transparent)]
    Worker(#[from] crate::worker::WorkerError),
    /// The worker's environment is unusable.
    #[error(transparent)]
    WorkerEnv(#[from] crate::worker::EnvError),
    /// Deployment failed or was refused; the message says what to change.
    #[error(transparent)]
    Deploy(#[from] crate::deploy::DeployError),
    /// A manifest could not be built.
    #[error(transparent)]
    Manifest(#[from] crate::deploy::manifest::ManifestError),
    /// A one-shot test job could not run.
    #[error(transparent)]
    TestInput(#[from] crate::worker::TestInputError),
    /// The local runtime could not start.
    #[error(transparent)]
    Runtime(#[from] crate::local::RuntimeError),
    /// A one-shot test job failed.
    #[error("{0}")]
    JobFailed(String),
}

// `main` returning `Err` prints the error with `Debug`: make that the readable message.
impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// `Result` with the SDK's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
