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

use crate::config::{ConfigError, Source};

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
