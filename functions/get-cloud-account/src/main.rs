//! Lambda entry point of `get-cloud-account`: the API's dependencies and the service's identity
//! (its account and the roles the trust policy names).

use std::sync::Arc;

use lambda_http::{Error, run_concurrent, service_fn};

// One thread: Lambda hands a function one event at a time (see `orgs::app::serve`).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    orgs::telemetry::init();
    let api = Arc::new(orgs::Api::from_env().await?);
    let service = Arc::new(orgs::config::service_identity(&orgs::config::Env)?);
    run_concurrent(service_fn(move |req| {
        let (api, service) = (api.clone(), service.clone());
        async move { get_cloud_account::handle(&api, &service, req).await }
    }))
    .await
}
