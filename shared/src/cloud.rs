//! The customer's cloud, behind one interface: the API functions verify a role through it, and a
//! test puts an adapter in front that refuses the way AWS would where the emulator cannot (a
//! wrong external id, a role that does not exist).

use std::future::Future;
use std::pin::Pin;

use aws_config::SdkConfig;
use aws_sdk_sts::config::{Credentials, SharedCredentialsProvider};
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};

use crate::domain::{AwsRegion, ExternalId, RoleArn};

/// Why the cloud said no.
#[derive(Debug, thiserror::Error)]
pub enum CloudError {
    /// The cloud refused for good: the role cannot be assumed with this external id, does not
    /// exist, or answered for another account. `code` is the cloud's own error code.
    #[error("{code}: {message}")]
    Refused { code: String, message: String },
    /// Throttled, timed out, unreachable: trying again may work.
    #[error("{context}")]
    Unavailable {
        context: &'static str,
        #[source]
        source: crate::domain::Source,
    },
}

/// What verifying a role proved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The account the assumed role's credentials act in.
    pub account_id: String,
}

/// The customer's cloud, as the service reaches it.
pub trait Cloud: Send + Sync {
    /// Assumes `role` with `external_id`, then makes one harmless read as it (who am I?), which
    /// must answer for the role's own account.
    fn verify<'a>(
        &'a self,
        role: &'a RoleArn,
        external_id: &'a ExternalId,
        region: &'a AwsRegion,
    ) -> Pin<Box<dyn Future<Output = Result<Verified, CloudError>> + Send + 'a>>;
}

/// AWS STS: AssumeRole, then GetCallerIdentity with the assumed credentials.
pub struct StsCloud {
    sdk: SdkConfig,
}

impl StsCloud {
    pub fn new(sdk: SdkConfig) -> Self {
        Self { sdk }
    }
}

fn classify<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
    context: &'static str,
    e: SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> CloudError {
    if crate::aws::is_transient(&e) {
        return CloudError::Unavailable { context, source: Box::new(e) };
    }
    match &e {
        SdkError::ServiceError(service) => CloudError::Refused {
            code: service.err().code().unwrap_or("Unknown").to_owned(),
            message: service.err().message().unwrap_or("refused").to_owned(),
        },
        _ => CloudError::Unavailable { context, source: Box::new(e) },
    }
}

impl Cloud for StsCloud {
    fn verify<'a>(
        &'a self,
        role: &'a RoleArn,
        external_id: &'a ExternalId,
        region: &'a AwsRegion,
    ) -> Pin<Box<dyn Future<Output = Result<Verified, CloudError>> + Send + 'a>> {
        Box::pin(async move {
            let sts = aws_sdk_sts::Client::new(&self.sdk);
            let assumed = sts
                .assume_role()
                .role_arn(role.as_str())
                .role_session_name("orgs-verify")
                .external_id(external_id.as_str())
                .duration_seconds(900)
                .send()
                .await
                .map_err(|e| classify("STS AssumeRole", e))?;
            let creds = assumed.credentials.ok_or_else(|| CloudError::Refused {
                code: "NoCredentials".into(),
                message: "AssumeRole answered without credentials".into(),
            })?;
            let as_role = self
                .sdk
                .to_builder()
                .region(aws_config::Region::new(region.as_str().to_owned()))
                .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                    creds.access_key_id,
                    creds.secret_access_key,
                    Some(creds.session_token),
                    None,
                    "assumed-role",
                )))
                .build();
            let identity = aws_sdk_sts::Client::new(&as_role)
                .get_caller_identity()
                .send()
                .await
                .map_err(|e| classify("STS GetCallerIdentity", e))?;
            let account_id = identity.account.unwrap_or_default();
            if account_id != role.account() {
                return Err(CloudError::Refused {
                    code: "AccountMismatch".into(),
                    message: format!(
                        "the role's credentials act in account {account_id}, not {}",
                        role.account()
                    ),
                });
            }
            Ok(Verified { account_id })
        })
    }
}
