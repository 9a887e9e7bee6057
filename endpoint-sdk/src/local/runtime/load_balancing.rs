//! The local runtime's load-balancing endpoints, as methods: a request sent to one in process
//! (what `app dev`'s `/lb/{endpoint}/..` and the in-process client do), its workers, and a
//! worker killed as if its machine died.

use axum::extract::Request;
use axum::response::Response;

use super::LocalRuntime;
use crate::local::RuntimeError;

impl LocalRuntime {
    /// Sends `request` to load-balancing endpoint `endpoint` through its balancer, as the
    /// platform would: its path is the one the app sees (`/turn`, not `/lb/chat/turn`), its
    /// `X-Runpod-Worker-Id` pins it, and the answer names the worker that served it. The
    /// answer's body streams as the app writes it.
    pub async fn request(
        &self,
        endpoint: &str,
        request: Request,
    ) -> Result<Response, RuntimeError> {
        let Some(b) = self.inner.balancers.get(endpoint) else {
            return Err(if self.inner.endpoints.contains_key(endpoint) {
                RuntimeError::NotLoadBalancing {
                    name: endpoint.to_string(),
                }
            } else {
                self.unknown(endpoint)
            });
        };
        Ok(b.handle(request).await)
    }

    /// Whether `endpoint` is a load-balancing endpoint of this runtime.
    pub fn is_load_balancing(&self, endpoint: &str) -> bool {
        self.inner.balancers.contains_key(endpoint)
    }

    /// The workers of load-balancing endpoint `endpoint` (starting or ready), by id.
    pub fn lb_workers(&self, endpoint: &str) -> Result<Vec<String>, RuntimeError> {
        let b = self.balancer(endpoint)?;
        Ok(b.worker_ids().iter().map(|w| w.to_string()).collect())
    }

    /// Kills worker `worker` of load-balancing endpoint `endpoint`, as if its machine died: its
    /// requests in flight end with `502`, its state is gone, and a request pinned to it gets
    /// `affinity_worker_gone`. False when it has no such worker.
    pub fn kill_worker(&self, endpoint: &str, worker: &str) -> Result<bool, RuntimeError> {
        Ok(self.balancer(endpoint)?.kill(worker))
    }

    fn balancer(
        &self,
        endpoint: &str,
    ) -> Result<&std::sync::Arc<crate::local::balancer::Balancer>, RuntimeError> {
        self.inner.balancers.get(endpoint).ok_or_else(|| {
            match self.inner.endpoints.contains_key(endpoint) {
                true => RuntimeError::NotLoadBalancing {
                    name: endpoint.to_string(),
                },
                false => self.unknown(endpoint),
            }
        })
    }
}
