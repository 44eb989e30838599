//! Lambda entry point of `register-user`, the Cognito PostConfirmation trigger.

use lambda_runtime::{Error, run_concurrent, service_fn};

// One thread: Lambda hands a function one event at a time. `run_concurrent` polls sequentially
// too, unless AWS_LAMBDA_MAX_CONCURRENCY asks for more (Lambda Managed Instances; `cargo lambda
// watch` sets it to 1), in which case the workers interleave on this thread.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    orgs::telemetry::init();
    let registrar = std::sync::Arc::new(register_user::Registrar::from_env().await?);
    run_concurrent(service_fn(move |event| {
        let registrar = registrar.clone();
        async move { register_user::handle(&registrar, event).await }
    }))
    .await
}
