//! Lambda entry point of `configure-account`: the API's dependencies, plus STS to prove roles and
//! the service's identity (its own account is never a customer's).

use std::sync::Arc;

use lambda_http::{Error, run_concurrent, service_fn};

// One thread: Lambda hands a function one event at a time (see `orgs::app::serve`).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    orgs::telemetry::init();
    let api = Arc::new(orgs::Api::from_env().await?);
    let sdk = orgs::aws::sdk_config(&orgs::config::Env)?;
    let cloud: Arc<dyn orgs::cloud::Cloud> = Arc::new(orgs::cloud::StsCloud::new(sdk));
    let service = Arc::new(orgs::config::service_identity(&orgs::config::Env)?);
    run_concurrent(service_fn(move |req| {
        let (api, cloud, service) = (api.clone(), cloud.clone(), service.clone());
        async move { configure_account::handle(&api, cloud.as_ref(), &service, req).await }
    }))
    .await
}
