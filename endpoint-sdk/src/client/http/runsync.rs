//! A typed call's one exchange over HTTP: `/runsync?wait=`, which brings the result of a job that
//! ends within the wait, or the job's id to wait on. Requests that create a job (this one, and a
//! handle's `/run`) run in a task of their own, so a caller dropped before the answer still has
//! its job cancelled once the answer names it.

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
pub(super) struct CancelWhenAnswered {
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
    pub(super) async fn take(&mut self) -> Result<Value, TransportError> {
        let answer = self.answer.as_mut().expect("the answer is awaited once");
        let answered = answer.await;
        self.answer = None;
        answered
            .map_err(|e| TransportError::unavailable(format!("the request's task ended: {e}")))?
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
        let mut guard = self.guarded(request, "runsync", endpoint_url);
        Running {
            id: None,
            status: Box::pin(async move {
                let v = guard.take().await.map_err(|e| self.routes.hint(e))?;
                Self::status_from(v, "runsync")
            }),
        }
    }

    /// Sends a request that creates a job (`/run`, `/runsync`) in a task of its own: if the
    /// caller goes away before the answer, the job the answer names is cancelled.
    pub(super) fn guarded(
        &self,
        request: reqwest::RequestBuilder,
        what: &'static str,
        endpoint_url: String,
    ) -> CancelWhenAnswered {
        CancelWhenAnswered {
            answer: Some(tokio::spawn(async move {
                Self::answer(request.send().await, what).await
            })),
            http: self.http.clone(),
            endpoint_url,
            api_key: self.routes.api_key.clone(),
        }
    }
}
