//! Lambda entry point of `get-openapi`. It needs no configuration and no clients: the document is
//! built once, at init.

use lambda_http::{Error, run_concurrent, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    orgs::telemetry::init();
    let document = get_openapi::Document::build();
    run_concurrent(service_fn(|req| get_openapi::handle(&document, req))).await
}
