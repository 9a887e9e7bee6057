//! Per-worker initialisers (`init = load_model`): a function with no arguments that returns
//! `Result<State, E>`, sync or async. A sync initialiser runs on a blocking thread so that loading
//! a model does not stall the worker's other tasks (its heartbeat among them).

use std::fmt;
use std::future::Future;

use crate::boxed::BoxFuture;

/// A per-worker initialiser failed; the worker does not take jobs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("per-worker init `{init}` failed: {message}")]
pub struct InitError {
    /// The initialiser's Rust path.
    pub init: String,
    /// Its error, as text.
    pub message: String,
}

/// Marks an async initialiser.
#[doc(hidden)]
pub struct AsyncInit<E>(E);
/// Marks a sync initialiser.
#[doc(hidden)]
pub struct SyncInit<E>(E);

/// A function usable as `init = ..`. `M` tells sync and async initialisers apart; it is inferred.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an endpoint's `init`",
    label = "not an initialiser",
    note = "`init = f` takes a function with no arguments returning `Result<{T}, E>` \
            (sync or async), where `E: Display`; the handler's `&{T}` parameter receives it"
)]
pub trait InitFn<T, M>: Send + 'static {
    /// Starts the initialiser.
    fn start(self) -> BoxFuture<'static, Result<T, InitError>>;
}

fn failed(e: &impl fmt::Display) -> InitError {
    InitError {
        init: String::new(),
        message: e.to_string(),
    }
}

impl<F, Fut, T, E> InitFn<T, AsyncInit<E>> for F
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, E>> + Send + 'static,
    E: fmt::Display + 'static,
{
    fn start(self) -> BoxFuture<'static, Result<T, InitError>> {
        Box::pin(async move { self().await.map_err(|e| failed(&e)) })
    }
}

impl<F, T, E> InitFn<T, SyncInit<E>> for F
where
    F: FnOnce() -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: fmt::Display + Send + 'static,
{
    fn start(self) -> BoxFuture<'static, Result<T, InitError>> {
        Box::pin(async move {
            match tokio::task::spawn_blocking(self).await {
                Ok(result) => result.map_err(|e| failed(&e)),
                Err(join) => Err(InitError {
                    init: String::new(),
                    message: if join.is_panic() {
                        format!("panicked: {}", super::panic_message(&*join.into_panic()))
                    } else {
                        "was cancelled".to_string()
                    },
                }),
            }
        })
    }
}

fn named<T>(name: &'static str, r: Result<T, InitError>) -> Result<T, InitError> {
    r.map_err(|mut e| {
        e.init = name.to_string();
        e
    })
}

/// Runs `f` for a handler that takes its state as `&T`.
#[doc(hidden)]
pub fn init_state<T: 'static, M>(
    name: &'static str,
    f: impl InitFn<T, M>,
) -> BoxFuture<'static, Result<T, InitError>> {
    let fut = f.start();
    Box::pin(async move { named(name, fut.await) })
}

/// Runs `f` for a handler that does not take the state (init for its side effects).
#[doc(hidden)]
pub fn init_discard<T: 'static, M>(
    name: &'static str,
    f: impl InitFn<T, M>,
) -> BoxFuture<'static, Result<(), InitError>> {
    let fut = f.start();
    Box::pin(async move { named(name, fut.await).map(drop) })
}

/// The initialiser of an endpoint without `init`.
#[doc(hidden)]
pub fn init_none() -> impl Future<Output = Result<(), InitError>> + Send {
    std::future::ready(Ok(()))
}
