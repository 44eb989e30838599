//! When a dependency fails the client gets a 503 problem that says nothing internal, and the
//! function answers rather than erroring out of the runtime.

use std::sync::Arc;

use local_stack::emulator::free_port;
use orgs::Api;
use orgs::auth::Verifier;
use orgs::config::AuthConfig;
use orgs::store::Store;

use crate::support::*;

/// The sample event of `function` with `token` in its authorization header.
fn sample_request(function: &str, token: &str) -> lambda_http::Request {
    let mut event = local_stack::events::offline_sample(function).expect("sample");
    event["headers"]["authorization"] = serde_json::Value::String(format!("Bearer {token}"));
    lambda_http::request::from_str(&event.to_string()).expect("request")
}

fn body_of(response: &lambda_http::Response<lambda_http::Body>) -> String {
    String::from_utf8(response.body().as_ref().to_vec()).expect("utf-8")
}

/// The API of `stack`, but with its store on `store`.
fn api_with_store(stack: &local_stack::Stack, store: Store) -> Api {
    Api {
        store,
        verifier: Verifier::new(AuthConfig {
            issuer: stack.issuer.url.clone(),
            client_id: local_stack::LOCAL_CLIENT_ID.into(),
            jwks_url: format!("{}/.well-known/jwks.json", stack.issuer.url),
            jwks_min_refresh: std::time::Duration::from_secs(10),
            jwks_max_age: std::time::Duration::from_secs(3600),
        }),
        clock: Arc::new(orgs::SystemClock),
        limits: orgs::config::Limits::default(),
        pricing: orgs::config::Pricing::default(),
        node_identity: stack.api.node_identity.clone(),
        webhook_targets: stack.api.webhook_targets,
    }
}

fn assert_names_nothing_internal(response: &lambda_http::Response<lambda_http::Body>) {
    assert_eq!(response.headers()["content-type"], "application/problem+json");
    let body = body_of(response);
    for secret in ["does-not-exist", "ResourceNotFound", "DynamoDB", "dynamodb", "127.0.0.1", "dispatch"] {
        assert!(!body.contains(secret), "{secret} leaked: {body}");
    }
}

#[tokio::test]
async fn a_missing_table_is_a_500_that_names_nothing_internal() {
    let stack = stack().await;
    let sdk = emulator().await.sdk_config().await;
    let broken = api_with_store(
        &stack,
        Store::new(aws_sdk_dynamodb::Client::new(&sdk), "orgs-table-that-does-not-exist"),
    );
    let token = stack.issuer.token(&uuid::Uuid::new_v4().to_string(), "alice@example.com");

    let response =
        get_me::handle(&broken, sample_request("get-me", &token)).await.expect("an answer, not an error");

    assert_eq!(response.status().as_u16(), 500, "retrying cannot help: {}", body_of(&response));
    assert!(response.headers().get("retry-after").is_none());
    assert_names_nothing_internal(&response);
}

#[tokio::test]
async fn an_unreachable_database_is_a_503_with_retry_after() {
    let stack = stack().await;
    let dead = format!("http://127.0.0.1:{}", free_port().expect("port"));
    let sdk = local_stack::emulator::sdk_config_for(&dead).await;
    let broken =
        api_with_store(&stack, Store::new(aws_sdk_dynamodb::Client::new(&sdk), &stack.options.table));
    let token = stack.issuer.token(&uuid::Uuid::new_v4().to_string(), "alice@example.com");

    let response =
        get_me::handle(&broken, sample_request("get-me", &token)).await.expect("an answer, not an error");

    assert_eq!(response.status().as_u16(), 503, "{}", body_of(&response));
    assert_eq!(response.headers()["retry-after"], "1");
    assert_names_nothing_internal(&response);
}

#[tokio::test]
async fn an_unreachable_jwks_is_a_503_not_a_401() {
    let stack = stack().await;
    let dead = format!("http://127.0.0.1:{}", free_port().expect("port"));
    let api = Api {
        store: stack.api.store.clone(),
        verifier: Verifier::new(AuthConfig {
            issuer: stack.issuer.url.clone(),
            client_id: local_stack::LOCAL_CLIENT_ID.into(),
            jwks_url: format!("{dead}/.well-known/jwks.json"),
            jwks_min_refresh: std::time::Duration::from_secs(10),
            jwks_max_age: std::time::Duration::from_secs(3600),
        }),
        clock: Arc::new(orgs::SystemClock),
        limits: orgs::config::Limits::default(),
        pricing: orgs::config::Pricing::default(),
        node_identity: stack.api.node_identity.clone(),
        webhook_targets: stack.api.webhook_targets,
    };
    let token = stack.issuer.token(&uuid::Uuid::new_v4().to_string(), "alice@example.com");

    let response =
        get_me::handle(&api, sample_request("get-me", &token)).await.expect("an answer, not an error");

    assert_eq!(response.status().as_u16(), 503, "{}", body_of(&response));
    assert!(!body_of(&response).contains(&dead));
}
