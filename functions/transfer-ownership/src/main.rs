//! Lambda entry point of `transfer-ownership`: wires configuration and clients, then serves. The decisions are in
//! `lib.rs`, where tests and the local router call them.

use lambda_http::{Error, run_concurrent, service_fn};

// One thread: Lambda hands a function one event at a time. `run_concurrent` polls sequentially
// too, unless AWS_LAMBDA_MAX_CONCURRENCY asks for more (Lambda Managed Instances; `cargo lambda
// watch` sets it to 1), in which case the workers interleave on this thread.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    orgs::telemetry::init();
    let api = std::sync::Arc::new(orgs::Api::from_env().await?);
    run_concurrent(service_fn(move |req| {
        let api = api.clone();
        async move { transfer_ownership::handle(&api, req).await }
    }))
    .await
}
