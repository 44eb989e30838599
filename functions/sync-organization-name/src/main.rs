//! Lambda entry point of `sync-organization-name`, fed by the table's stream (filtered to
//! organization items).

use lambda_runtime::{Error, run_concurrent, service_fn};

// One thread: Lambda hands a function one event at a time (see `record-mail-feedback`).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    orgs::telemetry::init();
    let syncer = std::sync::Arc::new(sync_organization_name::NameSync::from_env().await?);
    run_concurrent(service_fn(move |event| {
        let syncer = syncer.clone();
        async move { sync_organization_name::handle(&syncer, event).await }
    }))
    .await
}
