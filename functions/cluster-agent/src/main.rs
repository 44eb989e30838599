//! Lambda entry point of `cluster-agent`: wires configuration and clients, then serves. The decisions are in
//! `lib.rs`, where tests and the local router call them.

use lambda_http::Error;

// One thread: Lambda hands a function one event at a time (see `orgs::app::serve`).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    orgs::telemetry::init();
    // The only function that verifies identity documents reads their certificates.
    let api = orgs::app::Api::from_env().await?.with_node_identity()?;
    orgs::app::serve_api(api, |api, req| async move { cluster_agent::handle(&api, req).await }).await
}
