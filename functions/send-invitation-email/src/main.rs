//! Lambda entry point of `send-invitation-email`, fed by the table's stream.

use lambda_runtime::{Error, run, service_fn};

// Lambda hands a function one event at a time: one thread, no worker pool to start.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    orgs::telemetry::init();
    let mailer = send_invitation_email::InvitationMailer::from_env().await?;
    run(service_fn(|event| send_invitation_email::handle(&mailer, event))).await
}
