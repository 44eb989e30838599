//! The customer's cloud, behind one interface: the API functions verify a role through it, and a
//! test puts an adapter in front that refuses the way AWS would where the emulator cannot (a
//! wrong external id, a role that does not exist).

#[cfg(feature = "ec2")]
pub mod ec2;
pub mod user_data;

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

/// The code of [`CloudError::Refused`] when the role let the service in with another external id
/// too: it does not require the organization's, so any tenant of the service could claim it.
pub const EXTERNAL_ID_NOT_REQUIRED: &str = "ExternalIdNotRequired";

/// What verifying a role proved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The account the assumed role's credentials act in.
    pub account_id: String,
}

/// The customer's cloud, as the service reaches it.
pub trait Cloud: Send + Sync {
    /// Assumes `role` with `external_id`, then makes one harmless read as it (who am I?), which
    /// must answer for the role's own account; then proves the role requires that external id:
    /// an AssumeRole with another one must be refused.
    fn verify<'a>(
        &'a self,
        role: &'a RoleArn,
        external_id: &'a ExternalId,
        region: &'a AwsRegion,
    ) -> Pin<Box<dyn Future<Output = Result<Verified, CloudError>> + Send + 'a>>;
}

/// Where a cluster's instances live: the customer's role (with the organization's external id)
/// and the region.
#[derive(Debug, Clone)]
pub struct Target {
    pub role_arn: RoleArn,
    pub external_id: ExternalId,
    pub region: AwsRegion,
}

/// One instance as the cloud reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub id: String,
    /// The cloud's state name: `pending`, `running`, `stopping`, `stopped`, `shutting-down`,
    /// `terminated`.
    pub state: String,
}

/// What a launch asks for.
#[derive(Debug, Clone)]
pub struct Launch {
    pub cluster_id: crate::domain::ClusterId,
    pub org_id: crate::domain::OrgId,
    pub name: String,
    pub instance_type: String,
    /// Head node plus workers.
    pub count: u32,
}

type CloudFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, CloudError>> + Send + 'a>>;

/// The customer's compute, reached through their role. The provisioner and the reconciler use
/// it; the API functions never do (they only record intent).
pub trait Fleet: Send + Sync {
    /// The cluster's instances that are not terminated, found by the cluster-id tag, head first.
    fn find<'a>(
        &'a self,
        target: &'a Target,
        cluster: &'a crate::domain::ClusterId,
    ) -> CloudFuture<'a, Vec<Instance>>;
    /// Launches the cluster's instances, every one tagged with the cluster and organization ids.
    fn launch<'a>(&'a self, target: &'a Target, launch: &'a Launch) -> CloudFuture<'a, Vec<String>>;
    fn start<'a>(&'a self, target: &'a Target, ids: &'a [String]) -> CloudFuture<'a, ()>;
    fn stop<'a>(&'a self, target: &'a Target, ids: &'a [String]) -> CloudFuture<'a, ()>;
    fn terminate<'a>(&'a self, target: &'a Target, ids: &'a [String]) -> CloudFuture<'a, ()>;
    /// Makes the cluster's own security group allow exactly `ports` (TCP, from anywhere) and
    /// adds it to the instances' groups, keeping every group the customer attached. Safe to
    /// repeat.
    fn sync_ports<'a>(
        &'a self,
        target: &'a Target,
        cluster: &'a crate::domain::ClusterId,
        ids: &'a [String],
        ports: &'a [u16],
    ) -> CloudFuture<'a, ()>;
}

/// The SDK configuration that acts as `target`'s role, in its region: AssumeRole with the
/// external id, credentials for 15 minutes.
pub async fn assume(sdk: &SdkConfig, target: &Target) -> Result<SdkConfig, CloudError> {
    let credentials = assume_credentials(sdk, target).await?;
    Ok(sdk
        .to_builder()
        .region(aws_config::Region::new(target.region.as_str().to_owned()))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .build())
}

/// The credentials of `target`'s role: AssumeRole with the external id, for 15 minutes.
pub async fn assume_credentials(sdk: &SdkConfig, target: &Target) -> Result<Credentials, CloudError> {
    let assumed = aws_sdk_sts::Client::new(sdk)
        .assume_role()
        .role_arn(target.role_arn.as_str())
        .role_session_name("orgs-provisioner")
        .external_id(target.external_id.as_str())
        .duration_seconds(900)
        .send()
        .await
        .map_err(|e| classify("STS AssumeRole", e))?;
    let creds = assumed.credentials.ok_or_else(|| CloudError::Refused {
        code: "NoCredentials".into(),
        message: "AssumeRole answered without credentials".into(),
    })?;
    Ok(Credentials::new(
        creds.access_key_id,
        creds.secret_access_key,
        Some(creds.session_token),
        None,
        "assumed-role",
    ))
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

pub fn classify<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
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
            let target =
                Target { role_arn: role.clone(), external_id: external_id.clone(), region: region.clone() };
            let as_role = assume(&self.sdk, &target).await?;
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
            // The same role with an external id nobody holds: AWS must refuse it, or the role
            // trusts the service without the organization's id, and any tenant could claim it.
            let probe = Target { external_id: ExternalId::generate(), ..target };
            match assume(&self.sdk, &probe).await {
                Ok(_) => Err(CloudError::Refused {
                    code: EXTERNAL_ID_NOT_REQUIRED.into(),
                    message: "AssumeRole succeeded with an external id other than the organization's".into(),
                }),
                Err(CloudError::Refused { .. }) => Ok(Verified { account_id }),
                Err(other) => Err(other),
            }
        })
    }
}
