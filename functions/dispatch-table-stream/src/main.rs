//! Lambda entry point of `dispatch-table-stream`, fed by the table's stream (filtered to renames,
//! memberships and clusters).

// The handler's future (stream batch, store, SDK) nests deeper than the compiler's default query depth.
#![recursion_limit = "256"]

use lambda_runtime::{Error, run_concurrent, service_fn};

// One thread: Lambda hands a function one event at a time (see `record-mail-feedback`).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    orgs::telemetry::init();
    let followers = std::sync::Arc::new(dispatch_table_stream::Followers::from_env()?);
    run_concurrent(service_fn(move |event| {
        let followers = followers.clone();
        async move { dispatch_table_stream::handle(&followers, event).await }
    }))
    .await
}
