//! Lambda entry point of `record-mail-feedback`, subscribed to the SNS topic SES publishes
//! bounces and complaints to.

use lambda_runtime::{Error, run, service_fn};

// Lambda hands a function one event at a time: one thread, no worker pool to start.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    orgs::telemetry::init();
    let recorder = record_mail_feedback::FeedbackRecorder::from_env().await?;
    run(service_fn(|event| record_mail_feedback::handle(&recorder, event))).await
}
