//! The smallest HTTP function: what every API function's size and cold start are measured against.

use lambda_http::{Body, Error, Request, Response, run_concurrent, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    run_concurrent(service_fn(|_: Request| async { Ok::<_, Error>(Response::new(Body::from("hello"))) }))
        .await
}
