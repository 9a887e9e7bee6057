//! A typed call's one exchange over HTTP: `/runsync?wait=`, which brings the result of a job that
//! ends within the wait, or the job's id to wait on. The request runs in a task of its own, so a
//! caller dropped before the answer still has its job cancelled once the answer names it.

use std::time::Duration;

use serde_json::Value;

use super::{HttpTransport, LONG_POLL_MIN};
use crate::client::transport::{Running, TransportError};
use crate::protocol::{RunRequest, StatusObject};

/// The longest a `/runsync` exchange waits: a job that takes longer is waited on by its id
/// (cancellable), and a caller dropped during the exchange has its job cancelled at most this
/// much later. The platform accepts 1 s to 300 s.
pub(super) const RUNSYNC_WAIT: Duration = Duration::from_secs(1);

/// Cancels the job of an exchange whose caller went away, once the answer names it.
struct CancelWhenAnswered {
    answer: Option<tokio::task::JoinHandle<Result<Value, TransportError>>>,
    http: reqwest::Client,
    endpoint_url: String,
    api_key: Option<String>,
}

impl Drop for CancelWhenAnswered {
    fn drop(&mut self) {
        let Some(answer) = self.answer.take() else {
            return;
        };
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (http, base, key) = (
            self.http.clone(),
            std::mem::take(&mut self.endpoint_url),
            self.api_key.take(),
        );
        rt.spawn(async move {
            let Ok(Ok(v)) = answer.await else { return };
            let Ok(st) = serde_json::from_value::<StatusObject>(v) else {
                return;
            };
            if st.status.is_final() {
                return;
            }
            let mut req = http.post(format!("{base}/cancel/{}", st.id));
            if let Some(k) = key {
                req = req.bearer_auth(k);
            }
            if let Err(e) = req.send().await {
                tracing::warn!(job = %st.id, "could not cancel an abandoned call's job: {e}");
            }
        });
    }
}

impl CancelWhenAnswered {
    /// The answer, read by the caller: nothing left to cancel.
    async fn take(&mut self) -> Result<Value, TransportError> {
        let answer = self.answer.as_mut().expect("the answer is awaited once");
        let answered = answer.await;
        self.answer = None;
        answered.map_err(|e| {
            TransportError::unavailable(format!("runsync: the request's task ended: {e}"))
        })?
    }
}

impl HttpTransport {
    /// Submits with `/runsync?wait=` (at most [`RUNSYNC_WAIT`]); the job's id comes with the
    /// answer.
    pub(super) fn runsync(&self, endpoint: &str, req: RunRequest, wait: Duration) -> Running<'_> {
        let wait = wait.clamp(LONG_POLL_MIN, RUNSYNC_WAIT);
        let endpoint_url = self.routes.endpoint_url(endpoint);
        let url = format!("{endpoint_url}/runsync?wait={}", wait.as_millis());
        // Bounded: a connection that goes silent ends the exchange (and the drop guard's wait).
        let request = self
            .request(reqwest::Method::POST, url)
            .timeout(wait + Duration::from_secs(30))
            .json(&req);
        let mut guard = CancelWhenAnswered {
            answer: Some(tokio::spawn(async move {
                Self::answer(request.send().await, "runsync").await
            })),
            http: self.http.clone(),
            endpoint_url,
            api_key: self.routes.api_key.clone(),
        };
        Running {
            id: None,
            status: Box::pin(async move {
                let v = guard.take().await?;
                Self::status_from(v, "runsync")
            }),
        }
    }
}
