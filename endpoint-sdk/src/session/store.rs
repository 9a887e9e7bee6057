//! Where sessions live: one trait, a memory store (the embedded default) and a Redis store
//! (production, feature `redis`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::boxed::BoxFuture;

/// A session's fields as stored: finished steps and the key/value area, each as JSON bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Finished steps: name → result.
    pub steps: HashMap<String, Vec<u8>>,
    /// The key/value area.
    pub kv: HashMap<String, Vec<u8>>,
    /// Bytes stored (values only).
    pub size: usize,
}

impl Snapshot {
    /// Adds a stored field (`step:<name>` or `kv:<key>`); other fields (a store's own
    /// bookkeeping) are ignored.
    pub fn insert_stored(&mut self, key: &str, value: Vec<u8>) {
        if let Some(n) = key.strip_prefix("step:") {
            self.size += value.len();
            self.steps.insert(n.to_string(), value);
        } else if let Some(n) = key.strip_prefix("kv:") {
            self.size += value.len();
            self.kv.insert(n.to_string(), value);
        }
    }
}

/// A field of a session.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Field {
    /// A finished step's result.
    Step(String),
    /// An entry of the key/value area.
    Kv(String),
}

impl Field {
    /// The field's name in a store (`step:<name>` or `kv:<key>`).
    pub fn key(&self) -> String {
        match self {
            Field::Step(n) => format!("step:{n}"),
            Field::Kv(k) => format!("kv:{k}"),
        }
    }
}

/// Why a store failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The store cannot be reached or answered with an error.
    #[error("the session store {store} failed: {message}")]
    Unavailable {
        /// The store (e.g. `redis://127.0.0.1:6379`).
        store: String,
        /// What happened.
        message: String,
    },
    /// The stored session was written by an incompatible build.
    #[error(
        "session `{session}` was stored by build `{stored}`, not `{expected}`: it is refused rather \
         than misread; start a new session (another id), or delete it"
    )]
    VersionMismatch {
        /// The session.
        session: String,
        /// The version tag stored with it.
        stored: String,
        /// This build's version tag.
        expected: String,
    },
    /// The session would exceed its size limit.
    #[error(
        "session `{session}` would hold {size} bytes, above its limit of {limit}: keep large data \
         (documents, pages) in object storage and store references in the session"
    )]
    TooLarge {
        /// The session.
        session: String,
        /// The size it would reach.
        size: usize,
        /// The limit.
        limit: usize,
    },
}

/// A session store.
pub trait SessionStore: Send + Sync + 'static {
    /// Opens session `id`: creates it (tagged with `version`) if it does not exist, refuses it if
    /// it was stored with another version, and returns what it holds. Refreshes its TTL.
    fn open<'a>(
        &'a self,
        id: &'a str,
        version: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Snapshot, StoreError>>;

    /// Writes one field, refusing a write that would take the session above `limit` bytes.
    /// Refreshes the session's TTL.
    fn write<'a>(
        &'a self,
        id: &'a str,
        field: &'a Field,
        value: Vec<u8>,
        limit: usize,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Deletes session `id`.
    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;

    /// A description for errors and logs.
    fn describe(&self) -> String;
}

struct Entry {
    version: String,
    fields: HashMap<String, Vec<u8>>,
    /// The bytes of `fields`' values, kept up to date by every write.
    size: usize,
    expires: Instant,
}

/// Sessions in this process's memory: the embedded default. Lost with the process; use the
/// Redis store when workers are separate processes that may die.
#[derive(Default)]
pub struct MemoryStore {
    sessions: Mutex<HashMap<String, Entry>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

fn snapshot_of(fields: &HashMap<String, Vec<u8>>) -> Snapshot {
    let mut s = Snapshot::default();
    for (k, v) in fields {
        s.insert_stored(k, v.clone());
    }
    s
}

impl SessionStore for MemoryStore {
    fn open<'a>(
        &'a self,
        id: &'a str,
        version: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Snapshot, StoreError>> {
        let now = Instant::now();
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions.retain(|_, e| e.expires > now);
        let entry = sessions.entry(id.to_string()).or_insert_with(|| Entry {
            version: version.to_string(),
            fields: HashMap::new(),
            size: 0,
            expires: now + ttl,
        });
        let result = if entry.version != version {
            Err(StoreError::VersionMismatch {
                session: id.to_string(),
                stored: entry.version.clone(),
                expected: version.to_string(),
            })
        } else {
            entry.expires = now + ttl;
            Ok(snapshot_of(&entry.fields))
        };
        Box::pin(std::future::ready(result))
    }

    fn write<'a>(
        &'a self,
        id: &'a str,
        field: &'a Field,
        value: Vec<u8>,
        limit: usize,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let result = match sessions.get_mut(id) {
            None => Err(StoreError::Unavailable {
                store: self.describe(),
                message: format!("session `{id}` expired or was deleted while in use"),
            }),
            Some(entry) => {
                let key = field.key();
                let old = entry.fields.get(&key).map_or(0, Vec::len);
                let size = entry.size - old + value.len();
                if size > limit {
                    Err(StoreError::TooLarge {
                        session: id.to_string(),
                        size,
                        limit,
                    })
                } else {
                    entry.fields.insert(key, value);
                    entry.size = size;
                    entry.expires = Instant::now() + ttl;
                    Ok(())
                }
            }
        };
        Box::pin(std::future::ready(result))
    }

    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        self.sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
        Box::pin(std::future::ready(Ok(())))
    }

    fn describe(&self) -> String {
        "memory".to_string()
    }
}
