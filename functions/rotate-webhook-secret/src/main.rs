//! Lambda entry point of `rotate-webhook-secret`: wires configuration and clients, then serves. The decisions are in
//! `lib.rs`, where tests and the local router call them.

use lambda_http::Error;

// One thread: Lambda hands a function one event at a time (see `orgs::app::serve`).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    orgs::telemetry::init();
    orgs::app::serve(|api, req| async move { rotate_webhook_secret::handle(&api, req).await }).await
}
