//! A hello world that pays what every function pays before its own work: the SDK configuration
//! from Lambda's environment and a DynamoDB client, built once at init (no call is made).

use lambda_http::{Body, Error, Request, Response, run_concurrent, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let sdk = orgs::aws::sdk_config(&orgs::config::Env)?;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    run_concurrent(service_fn(move |_: Request| {
        let region = client.config().region().map(|r| r.to_string()).unwrap_or_default();
        async move { Ok::<_, Error>(Response::new(Body::from(format!("hello from {region}")))) }
    }))
    .await
}
