//! Lambda entry point of `route-not-found`. It needs no configuration and no clients.

use lambda_http::{Error, run, service_fn};

// Lambda hands a function one event at a time: one thread, no worker pool to start.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    orgs::telemetry::init();
    run(service_fn(route_not_found::handle)).await
}
