//! Lambda entry point of `get-openapi`. It needs no configuration and no clients: the document is
//! built once, at init.

use std::sync::Arc;

use lambda_http::{Error, run_concurrent, service_fn};

// One thread: Lambda hands a function one event at a time (see `orgs::app::serve`).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    orgs::telemetry::init();
    let document = Arc::new(get_openapi::Document::build()?);
    run_concurrent(service_fn(move |req| {
        let document = document.clone();
        async move { get_openapi::handle(&document, req).await }
    }))
    .await
}
