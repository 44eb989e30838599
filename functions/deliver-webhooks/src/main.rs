//! Lambda entry point of `deliver-webhooks`, invoked every minute by the scheduler.
//!
//! Deployed, deliveries reach public addresses only ([`orgs::domain::webhooks::Targets`]'s
//! default): nothing here reads a setting that could widen that.

use lambda_runtime::{Error, run, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    orgs::telemetry::init();
    let deliverer = std::sync::Arc::new(deliver_webhooks::Deliverer::from_env()?);
    run(service_fn(move |event| {
        let deliverer = deliverer.clone();
        async move { deliver_webhooks::handle(&deliverer, event).await }
    }))
    .await
}
