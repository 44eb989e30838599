//! Lambda entry point of `route-not-found`. It needs no configuration and no clients.

use lambda_http::{Error, run_concurrent, service_fn};

// One thread: Lambda hands a function one event at a time. `run_concurrent` polls sequentially
// too, unless AWS_LAMBDA_MAX_CONCURRENCY asks for more (Lambda Managed Instances; `cargo lambda
// watch` sets it to 1), in which case the workers interleave on this thread.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    orgs::telemetry::init();
    run_concurrent(service_fn(route_not_found::handle)).await
}
