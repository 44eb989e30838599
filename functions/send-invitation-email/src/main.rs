//! Lambda entry point of `send-invitation-email`, fed by the table's stream.

use lambda_runtime::{Error, run_concurrent, service_fn};

// One thread: Lambda hands a function one event at a time. `run_concurrent` polls sequentially
// too, unless AWS_LAMBDA_MAX_CONCURRENCY asks for more (Lambda Managed Instances; `cargo lambda
// watch` sets it to 1), in which case the workers interleave on this thread.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    orgs::telemetry::init();
    let mailer = std::sync::Arc::new(send_invitation_email::InvitationMailer::from_env().await?);
    run_concurrent(service_fn(move |event| {
        let mailer = mailer.clone();
        async move { send_invitation_email::handle(&mailer, event).await }
    }))
    .await
}
