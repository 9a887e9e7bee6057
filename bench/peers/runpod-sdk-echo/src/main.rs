//! runpod-sdk 0.6's serverless worker with an echo handler: the job's input is its output.
//! Concurrency comes from `RUNPOD_WORKER_CONCURRENCY`, the platform's URLs from the usual
//! `RUNPOD_WEBHOOK_*` variables.

use runpod_sdk::serverless::ServerlessWorker;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let worker = ServerlessWorker::from_env()?;
    worker.run(|job| async move { Ok(job.input) }).await?;
    Ok(())
}
