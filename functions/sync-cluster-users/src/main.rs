//! Lambda entry point of `sync-cluster-users`, fed by the table's stream (filtered to memberships
//! and new managed clusters).

// The handler's future (stream batch, store, SDK) nests deeper than the compiler's default query depth.
#![recursion_limit = "256"]

use lambda_runtime::{Error, run_concurrent, service_fn};

// One thread: Lambda hands a function one event at a time (see `record-mail-feedback`).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    orgs::telemetry::init();
    let sync = std::sync::Arc::new(sync_cluster_users::UserSync::from_env()?);
    run_concurrent(service_fn(move |event| {
        let sync = sync.clone();
        async move { sync_cluster_users::handle(&sync, event).await }
    }))
    .await
}
