//! The housekeeping task of one endpoint: every tick (or when woken), it runs the state
//! machine's housekeeping and starts the simulated workers the scaler asks for.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::shell::LocalEndpoint;
use super::simulated;
use super::state::new_worker_id;

/// Runs until `shutdown`, then stops the endpoint's workers.
pub(crate) async fn run(ep: Arc<LocalEndpoint>, shutdown: CancellationToken) {
    let tick = ep.shared.options.tick;
    loop {
        for _ in 0..ep.tick() {
            let id = new_worker_id();
            let stop = ep.add_simulated_worker(id.clone());
            tokio::spawn(simulated::run(ep.clone(), id, stop));
        }
        tokio::select! {
            _ = tokio::time::sleep(tick) => {}
            _ = ep.wake.notified() => {}
            _ = shutdown.cancelled() => {
                ep.shutdown();
                return;
            }
        }
    }
}
