//! Lambda entry point of `list-members`: wires configuration and clients, then serves. The decisions are in
//! `lib.rs`, where tests and the local router call them.

use lambda_http::{Error, run, service_fn};

// Lambda hands a function one event at a time: one thread, no worker pool to start.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    orgs::telemetry::init();
    let api = orgs::Api::from_env().await?;
    run(service_fn(|req| list_members::handle(&api, req))).await
}
