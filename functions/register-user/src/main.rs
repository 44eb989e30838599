//! Lambda entry point of `register-user`, the Cognito PostConfirmation trigger.

use lambda_runtime::{Error, run, service_fn};

// Lambda hands a function one event at a time: one thread, no worker pool to start.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    orgs::telemetry::init();
    let registrar = register_user::Registrar::from_env().await?;
    run(service_fn(|event| register_user::handle(&registrar, event))).await
}
