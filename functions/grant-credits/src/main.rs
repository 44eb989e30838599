//! Lambda entry point of `grant-credits`, invoked directly by operators (no HTTP route).

use lambda_runtime::{Error, run, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    orgs::telemetry::init();
    let granter = std::sync::Arc::new(grant_credits::Granter::from_env()?);
    run(service_fn(move |event| {
        let granter = granter.clone();
        async move { grant_credits::handle(&granter, event).await }
    }))
    .await
}
