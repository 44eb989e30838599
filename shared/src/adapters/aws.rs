//! AWS SDK configuration for a Lambda function, from the environment Lambda sets: the region,
//! the execution role's credentials, and `AWS_ENDPOINT_URL` when set (the local stack sets it).
//!
//! `aws_config::load_from_env` would also bring the profile, SSO, web-identity and IMDS
//! credential chains and an STS client into every binary; none of them is ever used inside Lambda,
//! and they cost about a megabyte per function. Reading the environment directly keeps init free
//! of network calls too.

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::SharedCredentialsProvider;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use crate::config::{ConfigError, Source};
use crate::domain::DomainError;

/// Error codes that say "not now" rather than "no": throttling and the services' own trouble.
const TRANSIENT_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "TransactionInProgressException",
    "InternalServerError",
    "InternalFailure",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "RequestTimeout",
    "RequestTimeoutException",
];

/// Whether a failed AWS call may succeed if tried again: a timeout, a connection that failed, a
/// response that could not be read, a 5xx, or a throttling code. Everything else (access denied,
/// a missing resource, a validation error) will fail the same way again.
pub fn is_transient<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> bool {
    match e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(service) => {
            service.raw().status().is_server_error()
                || service.err().code().is_some_and(|code| TRANSIENT_CODES.contains(&code))
        }
        _ => false,
    }
}

/// A failed AWS call in the domain's terms: [`DomainError::Unavailable`] (503, retry) when it
/// may pass, [`DomainError::Failed`] (500) when it will not. The SDK error stays the source, for
/// the log.
pub fn failure<E>(context: &'static str, e: SdkError<E, HttpResponse>) -> DomainError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if is_transient(&e) { DomainError::unavailable(context, e) } else { DomainError::failed(context, e) }
}

/// The HTTPS connector of the hyper and rustls stack the SDK already links, trusting the
/// system's roots: for the calls made without an SDK client (the JWKS, EC2's Query API). Loading
/// the roots is not free, so a caller builds its client once, at its first call.
pub fn https_connector()
-> Result<hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>, String> {
    Ok(hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()
        .map_err(|e| format!("loading root certificates: {e}"))?
        .https_or_http()
        .enable_http1()
        .build())
}

/// The SDK configuration every client of a function is built from.
pub fn sdk_config(src: &dyn Source) -> Result<SdkConfig, ConfigError> {
    let region = src
        .get("AWS_REGION")
        .or_else(|| src.get("AWS_DEFAULT_REGION"))
        .filter(|r| !r.is_empty())
        .ok_or(ConfigError::Missing("AWS_REGION"))?;
    let mut builder = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region))
        .credentials_provider(SharedCredentialsProvider::new(EnvironmentVariableCredentialsProvider::new()));
    if let Some(url) = src.get("AWS_ENDPOINT_URL").filter(|u| !u.is_empty()) {
        builder = builder.endpoint_url(url);
    }
    Ok(builder.build())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::operation::get_item::GetItemError;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    fn service_error(status: StatusCode, code: &str) -> SdkError<GetItemError, HttpResponse> {
        let meta = ErrorMetadata::builder().code(code).message("from the service").build();
        SdkError::service_error(GetItemError::generic(meta), HttpResponse::new(status, SdkBody::empty()))
    }

    #[test]
    fn throttling_timeouts_and_5xx_pass_and_the_rest_does_not() -> Result<(), Box<dyn std::error::Error>> {
        for (status, code) in [
            (400, "ThrottlingException"),
            (400, "ProvisionedThroughputExceededException"),
            (400, "RequestLimitExceeded"),
            (500, "InternalServerError"),
            (503, "ServiceUnavailable"),
        ] {
            let e = failure("DynamoDB GetItem", service_error(StatusCode::try_from(status)?, code));
            assert!(matches!(e, DomainError::Unavailable { .. }), "{code} should be transient");
        }
        for code in ["AccessDeniedException", "ResourceNotFoundException", "ValidationException"] {
            let e = failure("DynamoDB GetItem", service_error(StatusCode::try_from(400)?, code));
            assert!(matches!(e, DomainError::Failed { .. }), "{code} should be permanent");
        }
        let timeout: SdkError<GetItemError, HttpResponse> = SdkError::timeout_error("took too long");
        assert!(matches!(failure("DynamoDB GetItem", timeout), DomainError::Unavailable { .. }));
        Ok(())
    }

    #[test]
    fn the_region_is_required_and_the_endpoint_honoured() -> Result<(), ConfigError> {
        let none = |_: &str| None::<String>;
        assert!(matches!(sdk_config(&none), Err(ConfigError::Missing("AWS_REGION"))));

        let local = |name: &str| match name {
            "AWS_REGION" => Some("eu-west-1".to_owned()),
            "AWS_ENDPOINT_URL" => Some("http://127.0.0.1:4566".to_owned()),
            _ => None,
        };
        let config = sdk_config(&local)?;
        assert_eq!(config.region().map(|r| r.as_ref()), Some("eu-west-1"));
        assert_eq!(config.endpoint_url(), Some("http://127.0.0.1:4566"));
        assert!(config.credentials_provider().is_some());
        Ok(())
    }
}
