//! Lambda entry point of `provision-cluster`, fed by the table's stream (filtered to clusters).

use lambda_runtime::{Error, run_concurrent, service_fn};

// One thread: Lambda hands a function one event at a time (see `record-mail-feedback`).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    orgs::telemetry::init();
    let provisioner = std::sync::Arc::new(provision_cluster::Provisioner::from_env().await?);
    run_concurrent(service_fn(move |event| {
        let provisioner = provisioner.clone();
        async move { provision_cluster::handle(&provisioner, event).await }
    }))
    .await
}
