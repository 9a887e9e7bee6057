//! The Redis session store: one hash per session (`endpoint-sdk:session:<id>`) holding its
//! version tag, its size, its finished steps (`step:<name>`) and its key/value area
//! (`kv:<key>`), with a TTL refreshed on every write. Opening and writing are Lua scripts, so the
//! version check and the size limit are atomic.

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::store::{Field, SessionStore, Snapshot, StoreError};
use crate::boxed::BoxFuture;

const OPEN: &str = r#"
local v = redis.call('HGET', KEYS[1], '__version')
if not v then
  redis.call('HSET', KEYS[1], '__version', ARGV[1], '__size', 0)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {}
end
if v ~= ARGV[1] then return {'__mismatch', v} end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return redis.call('HGETALL', KEYS[1])
"#;

const WRITE: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1, 0} end
local old = redis.call('HSTRLEN', KEYS[1], ARGV[1])
local size = tonumber(redis.call('HGET', KEYS[1], '__size') or '0') - old + string.len(ARGV[2])
if size > tonumber(ARGV[3]) then return {-2, size} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2], '__size', size)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {0, size}
"#;

/// Sessions in Redis: they survive the death of the worker that wrote them.
pub struct RedisStore {
    manager: ConnectionManager,
    url: String,
    open: redis::Script,
    write: redis::Script,
}

impl RedisStore {
    /// A store at `url` (`redis://host:port/db`). Connects on first use and reconnects after a
    /// failure; while Redis is unreachable, operations fail within about two seconds with a
    /// clear error.
    pub fn new(url: &str) -> Result<RedisStore, StoreError> {
        let shown = redact(url);
        let client = redis::Client::open(url).map_err(|e| StoreError::Unavailable {
            store: shown.clone(),
            message: format!("not a Redis URL: {e}"),
        })?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let manager =
            client
                .get_connection_manager_lazy(config)
                .map_err(|e| StoreError::Unavailable {
                    store: shown.clone(),
                    message: e.to_string(),
                })?;
        Ok(RedisStore {
            manager,
            url: shown,
            open: redis::Script::new(OPEN),
            write: redis::Script::new(WRITE),
        })
    }

    fn key(id: &str) -> String {
        format!("endpoint-sdk:session:{id}")
    }

    fn unavailable(&self, e: redis::RedisError) -> StoreError {
        StoreError::Unavailable {
            store: self.url.clone(),
            message: if e.is_connection_refusal() || e.is_io_error() || e.is_timeout() {
                format!(
                    "Redis is unreachable ({e}); the session's finished steps are safe there once it is back"
                )
            } else {
                e.to_string()
            },
        }
    }
}

/// The URL without its password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            format!("{}://<credentials>@{}", &url[..s], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

impl SessionStore for RedisStore {
    fn open<'a>(
        &'a self,
        id: &'a str,
        version: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Snapshot, StoreError>> {
        Box::pin(async move {
            let mut con = self.manager.clone();
            let flat: Vec<Vec<u8>> = self
                .open
                .key(Self::key(id))
                .arg(version)
                .arg(ttl.as_millis() as u64)
                .invoke_async(&mut con)
                .await
                .map_err(|e| self.unavailable(e))?;
            if flat.first().map(Vec::as_slice) == Some(b"__mismatch") {
                return Err(StoreError::VersionMismatch {
                    session: id.to_string(),
                    stored: String::from_utf8_lossy(flat.get(1).map_or(&[][..], |v| v))
                        .into_owned(),
                    expected: version.to_string(),
                });
            }
            let mut snap = Snapshot::default();
            for pair in flat.chunks(2) {
                if let [k, v] = pair {
                    snap.insert_stored(&String::from_utf8_lossy(k), v.clone());
                }
            }
            Ok(snap)
        })
    }

    fn write<'a>(
        &'a self,
        id: &'a str,
        field: &'a Field,
        value: Vec<u8>,
        limit: usize,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let mut con = self.manager.clone();
            let r: Vec<i64> = self
                .write
                .key(Self::key(id))
                .arg(field.key())
                .arg(value)
                .arg(limit as u64)
                .arg(ttl.as_millis() as u64)
                .invoke_async(&mut con)
                .await
                .map_err(|e| self.unavailable(e))?;
            match r.as_slice() {
                [0, _] => Ok(()),
                [-2, size] => Err(StoreError::TooLarge {
                    session: id.to_string(),
                    size: *size as usize,
                    limit,
                }),
                _ => Err(StoreError::Unavailable {
                    store: self.url.clone(),
                    message: format!("session `{id}` expired or was deleted while in use"),
                }),
            }
        })
    }

    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let mut con = self.manager.clone();
            redis::cmd("DEL")
                .arg(Self::key(id))
                .query_async::<()>(&mut con)
                .await
                .map_err(|e| self.unavailable(e))
        })
    }

    fn describe(&self) -> String {
        self.url.clone()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn urls_are_shown_without_credentials() {
        assert_eq!(
            super::redact("redis://:pw@10.0.0.1:6379/0"),
            "redis://<credentials>@10.0.0.1:6379/0"
        );
        assert_eq!(
            super::redact("redis://127.0.0.1:6379"),
            "redis://127.0.0.1:6379"
        );
    }
}
