//! Who is calling AWS: on the local stack every function signs its calls with its own access key
//! id (its name), as each Lambda signs with its own execution role in AWS. The emulator wrapper
//! records the calls by key, and the IAM conformance test compares them with each function's
//! policy in the template. Test set-up and the dev tooling sign as [`TEST_KEY`], which is never
//! checked.
//!
//! The key comes from a task-local set where the stack hands work to a function (the router, the
//! stream pump, the scheduled reconciler, a test invoking a function directly), so one SDK
//! configuration serves every function, as one process hosts them all. Its credentials are not
//! cached: each request asks which function it runs for.

use std::future::Future;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::config::Credentials;
use aws_sdk_dynamodb::config::{ProvideCredentials, SharedCredentialsProvider};

/// The access key id of everything that is not a function: test set-up, tooling.
pub const TEST_KEY: &str = "test";

tokio::task_local! {
    static FUNCTION: &'static str;
}

/// Runs `work` as the function `name`: every AWS call it makes is signed with that function's key.
/// The work is boxed: a function's future is deep, and a test thread's stack is not.
pub async fn as_function<F: Future>(name: &'static str, work: F) -> F::Output {
    FUNCTION.scope(name, Box::pin(work)).await
}

/// The function whose work is running, if any.
pub fn current_function() -> Option<&'static str> {
    FUNCTION.try_with(|f| *f).ok()
}

/// Credentials whose access key id names the function that is calling.
#[derive(Debug, Default)]
pub struct FunctionCredentials;

impl ProvideCredentials for FunctionCredentials {
    fn provide_credentials<'a>(&'a self) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        let key = current_function().unwrap_or(TEST_KEY);
        aws_credential_types::provider::future::ProvideCredentials::ready(Ok(Credentials::new(
            key,
            "local-secret",
            None,
            None,
            "local-function",
        )))
    }
}

/// `sdk` signing as whichever function is running (see [`as_function`]).
pub fn per_function(sdk: &SdkConfig) -> SdkConfig {
    sdk.to_builder()
        .credentials_provider(SharedCredentialsProvider::new(FunctionCredentials))
        .identity_cache(aws_config::identity::IdentityCache::no_cache())
        .build()
}
