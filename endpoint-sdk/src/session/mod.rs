//! Sessions: an orchestrator's state checkpointed outside the worker, so that when a worker
//! dies another one resumes the task without redoing the finished steps.
//!
//! ```
//! use endpoint_sdk::prelude::*;
//!
//! #[endpoint(cpu = "cpu3c-2-4", execution_timeout_ms = 120_000)]
//! async fn plan(ctx: Ctx, goal: String) -> Result<String, String> {
//!     let session = ctx.session().await.map_err(|e| e.to_string())?;
//!     // Runs once per session; on a resumed session it returns the stored result.
//!     let outline: Vec<String> = session
//!         .step("outline", || async { vec![format!("research {goal}"), "write".to_string()] })
//!         .await
//!         .map_err(|e| e.to_string())?;
//!     session.put("notes", &outline).await.map_err(|e| e.to_string())?;
//!     Ok(outline.join(", "))
//! }
//! ```
//!
//! A session is named by the caller (`CallOptions::session("..")`) or, by default, after the job:
//! the platform's own retry of a job (same id) then resumes its session. Jobs of one session
//! prefer the worker that ran its last job (local runtime), and the session id travels inside
//! the job's input (`{"$session": "<id>", "$input": <input>}`), the one field the platform hands
//! to workers, so SDK endpoints find it wherever they run.

#[cfg(feature = "redis")]
mod redis;
mod store;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

#[cfg(feature = "redis")]
pub use self::redis::RedisStore;
pub use store::{Field, MemoryStore, SessionStore, Snapshot, StoreError};

/// Limits of sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionOptions {
    /// How long an untouched session lives (refreshed on every write). Default: 24 hours.
    pub ttl: Duration,
    /// The most bytes a session may hold. Default: 16 MiB.
    pub max_bytes: usize,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            ttl: Duration::from_secs(24 * 3600),
            max_bytes: 16 * 1024 * 1024,
        }
    }
}

/// Where a runtime's jobs keep their sessions.
#[derive(Clone)]
pub struct Sessions {
    pub(crate) store: Arc<dyn SessionStore>,
    pub(crate) options: SessionOptions,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("store", &self.store.describe())
            .field("options", &self.options)
            .finish()
    }
}

impl Sessions {
    /// Sessions in `store`, with `options`.
    pub fn new(store: Arc<dyn SessionStore>, options: SessionOptions) -> Self {
        Sessions { store, options }
    }

    /// Sessions in this process's memory (the embedded default).
    pub fn memory() -> Self {
        static SHARED: OnceLock<Arc<MemoryStore>> = OnceLock::new();
        Sessions::new(
            SHARED.get_or_init(|| Arc::new(MemoryStore::new())).clone(),
            SessionOptions::default(),
        )
    }

    /// From the environment: `SESSION_STORE_URL=redis://..` selects Redis (feature `redis`);
    /// otherwise memory. `SESSION_TTL_S` and `SESSION_MAX_BYTES` set the limits.
    pub fn from_env() -> Result<Self, StoreError> {
        let mut options = SessionOptions::default();
        if let Some(s) = std::env::var(crate::protocol::vars::SESSION_TTL_S)
            .ok()
            .and_then(|v| v.parse().ok())
        {
            options.ttl = Duration::from_secs(s);
        }
        if let Some(b) = std::env::var(crate::protocol::vars::SESSION_MAX_BYTES)
            .ok()
            .and_then(|v| v.parse().ok())
        {
            options.max_bytes = b;
        }
        match std::env::var(crate::protocol::vars::SESSION_STORE_URL)
            .ok()
            .filter(|v| !v.is_empty())
        {
            None => Ok(Sessions {
                options,
                ..Sessions::memory()
            }),
            #[cfg(feature = "redis")]
            Some(url) if url.starts_with("redis://") || url.starts_with("rediss://") => {
                Ok(Sessions::new(Arc::new(RedisStore::new(&url)?), options))
            }
            Some(url) => Err(StoreError::Unavailable {
                store: url,
                message: if cfg!(feature = "redis") {
                    "SESSION_STORE_URL must be a redis:// URL".to_string()
                } else {
                    "this binary was built without the `redis` feature of endpoint-sdk".to_string()
                },
            }),
        }
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn SessionStore> {
        &self.store
    }
}

/// A session operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// The store failed, refused an incompatible session, or the session is too large.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A value could not be written or read as JSON.
    #[error("session `{session}`, {what}: {message}")]
    Json {
        /// The session.
        session: String,
        /// The step or key.
        what: String,
        /// What failed.
        message: String,
    },
}

/// A failed `try_step`: the step's own error (nothing stored), or the session's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError<E> {
    /// The step failed; it was not stored and runs again next time.
    #[error("{0}")]
    Step(E),
    /// The session failed.
    #[error(transparent)]
    Session(#[from] SessionError),
}

/// One open session. Cheap to clone.
#[derive(Clone)]
pub struct Session {
    inner: Arc<SessionInner>,
}

struct SessionInner {
    id: String,
    version: String,
    sessions: Sessions,
    snapshot: Mutex<Snapshot>,
    resumed: Vec<String>,
    running: Mutex<HashMap<String, ()>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.inner.id)
            .field("version", &self.inner.version)
            .field("resumed_steps", &self.inner.resumed)
            .finish()
    }
}

impl Session {
    /// Opens session `id` in `sessions`, checking its version tag.
    pub async fn open(
        sessions: &Sessions,
        id: &str,
        version: &str,
    ) -> Result<Session, SessionError> {
        let snapshot = sessions
            .store
            .open(id, version, sessions.options.ttl)
            .await?;
        let mut resumed: Vec<String> = snapshot.steps.keys().cloned().collect();
        resumed.sort();
        Ok(Session {
            inner: Arc::new(SessionInner {
                id: id.to_string(),
                version: version.to_string(),
                sessions: sessions.clone(),
                snapshot: Mutex::new(snapshot),
                resumed,
                running: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The session's id.
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// The steps that had finished when the session was opened (a resumed session has some).
    pub fn resumed_steps(&self) -> &[String] {
        &self.inner.resumed
    }

    /// The steps finished so far.
    pub fn finished_steps(&self) -> Vec<String> {
        let mut s: Vec<String> = self.snapshot().steps.keys().cloned().collect();
        s.sort();
        s
    }

    /// The stored result of step `name`, if it has finished (what a rehydrating worker reads
    /// back: a conversation's earlier turns, say).
    pub fn step_result<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, SessionError> {
        self.stored(name)
    }

    fn snapshot(&self) -> std::sync::MutexGuard<'_, Snapshot> {
        self.inner
            .snapshot
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    fn json_err(&self, what: String, e: impl std::fmt::Display) -> SessionError {
        SessionError::Json {
            session: self.inner.id.clone(),
            what,
            message: e.to_string(),
        }
    }

    fn stored<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, SessionError> {
        let bytes = self.snapshot().steps.get(name).cloned();
        bytes
            .map(|b| {
                serde_json::from_slice(&b).map_err(|e| self.json_err(format!("step `{name}`"), e))
            })
            .transpose()
    }

    async fn record(&self, field: Field, bytes: Vec<u8>) -> Result<(), SessionError> {
        let s = &self.inner.sessions;
        s.store
            .write(
                &self.inner.id,
                &field,
                bytes.clone(),
                s.options.max_bytes,
                s.options.ttl,
            )
            .await?;
        let mut guard = self.snapshot();
        let snap = &mut *guard;
        let (map, name) = match &field {
            Field::Step(n) => (&mut snap.steps, n.clone()),
            Field::Kv(k) => (&mut snap.kv, k.clone()),
        };
        let len = bytes.len();
        let old = map.insert(name, bytes).map_or(0, |b| b.len());
        snap.size = snap.size - old + len;
        Ok(())
    }

    /// Runs step `name` once: the first time, runs `f` and stores its result; on a resumed
    /// session, returns the stored result without running `f` (no second fan-out, no second LLM
    /// call). The result must survive a JSON round trip.
    pub async fn step<T, F, Fut>(&self, name: &str, f: F) -> Result<T, SessionError>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        if let Some(done) = self.stored(name)? {
            return Ok(done);
        }
        self.mark_running(name);
        let value = f().await;
        let bytes =
            serde_json::to_vec(&value).map_err(|e| self.json_err(format!("step `{name}`"), e))?;
        self.record(Field::Step(name.to_string()), bytes).await?;
        Ok(value)
    }

    /// Like [`Session::step`] for a step that can fail: only a success is stored, so a failed
    /// step runs again when the session resumes.
    pub async fn try_step<T, E, F, Fut>(&self, name: &str, f: F) -> Result<T, StepError<E>>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if let Some(done) = self.stored(name)? {
            return Ok(done);
        }
        self.mark_running(name);
        let value = f().await.map_err(StepError::Step)?;
        let bytes =
            serde_json::to_vec(&value).map_err(|e| self.json_err(format!("step `{name}`"), e))?;
        self.record(Field::Step(name.to_string()), bytes).await?;
        Ok(value)
    }

    fn mark_running(&self, name: &str) {
        let mut running = self.inner.running.lock().unwrap_or_else(|e| e.into_inner());
        if running.insert(name.to_string(), ()).is_some() {
            tracing::warn!(
                session = %self.inner.id,
                "step `{name}` ran twice in one job: give each step a distinct name"
            );
        }
    }

    /// Stores `value` under `key` in the session's key/value area (the agent's own state: its
    /// context window, its reasoning so far).
    pub async fn put<T: Serialize + ?Sized>(
        &self,
        key: &str,
        value: &T,
    ) -> Result<(), SessionError> {
        let bytes =
            serde_json::to_vec(value).map_err(|e| self.json_err(format!("key `{key}`"), e))?;
        self.record(Field::Kv(key.to_string()), bytes).await
    }

    /// The value stored under `key`, if any.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, SessionError> {
        let bytes = self.snapshot().kv.get(key).cloned();
        bytes
            .map(|b| {
                serde_json::from_slice(&b).map_err(|e| self.json_err(format!("key `{key}`"), e))
            })
            .transpose()
    }

    /// Bytes the session holds.
    pub fn size(&self) -> usize {
        self.snapshot().size
    }

    /// Deletes the session from its store (e.g. when the task is done).
    pub async fn delete(self) -> Result<(), SessionError> {
        Ok(self.inner.sessions.store.delete(&self.inner.id).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn steps_run_once_and_resume_from_the_store() {
        let sessions = Sessions::new(Arc::new(MemoryStore::new()), SessionOptions::default());
        let runs = std::sync::atomic::AtomicUsize::new(0);
        let s = Session::open(&sessions, "t1", "v1").await.unwrap();
        let step = || async {
            runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            vec![1, 2, 3]
        };
        assert_eq!(s.step("a", step).await.unwrap(), vec![1, 2, 3]);
        s.put("ctx", "so far").await.unwrap();
        let resumed = Session::open(&sessions, "t1", "v1").await.unwrap();
        assert_eq!(resumed.resumed_steps(), ["a"]);
        assert_eq!(resumed.step("a", step).await.unwrap(), vec![1, 2, 3]);
        assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(
            resumed.get::<String>("ctx").unwrap().as_deref(),
            Some("so far")
        );
        let failed: Result<u8, StepError<&str>> =
            resumed.try_step("b", || async { Err("no") }).await;
        assert_eq!(failed, Err(StepError::Step("no")));
        assert!(
            resumed.finished_steps() == ["a"],
            "a failed step is not stored"
        );
        let err = Session::open(&sessions, "t1", "v2").await.unwrap_err();
        assert!(
            matches!(err, SessionError::Store(StoreError::VersionMismatch { .. })),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_session_refuses_to_grow_past_its_limit() {
        let sessions = Sessions::new(
            Arc::new(MemoryStore::new()),
            SessionOptions {
                max_bytes: 100,
                ..SessionOptions::default()
            },
        );
        let s = Session::open(&sessions, "big", "v1").await.unwrap();
        s.put("a", &"x".repeat(50)).await.unwrap();
        let err = s.put("b", &"y".repeat(60)).await.unwrap_err();
        assert!(
            matches!(
                err,
                SessionError::Store(StoreError::TooLarge { limit: 100, .. })
            ),
            "{err}"
        );
        assert!(err.to_string().contains("keep large data"), "{err}");
        // Overwriting a key counts its new size, not both.
        s.put("a", &"z".repeat(60)).await.unwrap();
    }
}
