//! Lambda entry point of `record-mail-feedback`, subscribed to the SNS topic SES publishes
//! bounces and complaints to.

use lambda_runtime::{Error, run_concurrent, service_fn};

// One thread: Lambda hands a function one event at a time. `run_concurrent` polls sequentially
// too, unless AWS_LAMBDA_MAX_CONCURRENCY asks for more (Lambda Managed Instances; `cargo lambda
// watch` sets it to 1), in which case the workers interleave on this thread.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    orgs::telemetry::init();
    let recorder = std::sync::Arc::new(record_mail_feedback::FeedbackRecorder::from_env().await?);
    run_concurrent(service_fn(move |event| {
        let recorder = recorder.clone();
        async move { record_mail_feedback::handle(&recorder, event).await }
    }))
    .await
}
