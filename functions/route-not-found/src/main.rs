//! Lambda entry point of `route-not-found`. It needs no configuration and no clients.

use lambda_http::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    orgs::telemetry::init();
    run(service_fn(route_not_found::handle)).await
}
