//! Lambda entry point of `reconcile-clusters`, invoked on a schedule.

use lambda_runtime::{Error, run, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    orgs::telemetry::init();
    let reconciler = std::sync::Arc::new(reconcile_clusters::Reconciler::from_env().await?);
    run(service_fn(move |event| {
        let reconciler = reconciler.clone();
        async move { reconcile_clusters::handle(&reconciler, event).await }
    }))
    .await
}
