//! `PUT /v1/organizations/{org_id}/cloud-account` `{"provider": "aws", "role_arn", "region"}`: the
//! owner or an admin connects the organization's AWS account. The service checks the ARN itself,
//! then proves the role: AssumeRole with the organization's external id, and one harmless read as
//! the role, which must answer for the ARN's account; then an AssumeRole with another external id,
//! which must be refused (a role that lets the service in without the organization's external id
//! could be claimed by any tenant). Malformed, or a role in the service's own account: 400.
//! Refused by the cloud, or not requiring the external id: 422 naming the cloud's error code and
//! what to fix, never the service's own roles. Nothing is saved unless the role was proven.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::cloud::{Cloud, CloudError, EXTERNAL_ID_NOT_REQUIRED};
use orgs::contract::ConfigureAccount;
use orgs::domain::authz::{self, Action};
use orgs::domain::{AwsRegion, CloudAccount, DomainError, Provider, RoleArn, ServiceIdentity};
use orgs::http::{ApiError, json, json_body, org_param, respond};

pub async fn handle(
    api: &Api,
    cloud: &dyn Cloud,
    service: &ServiceIdentity,
    req: Request,
) -> Result<Response<Body>, Error> {
    Ok(respond(&req, configure(api, cloud, service, &req).await))
}

async fn configure(
    api: &Api,
    cloud: &dyn Cloud,
    service: &ServiceIdentity,
    req: &Request,
) -> Result<Response<Body>, ApiError> {
    let caller = api.authenticate(req).await?;
    let org = org_param(req)?;
    let body: ConfigureAccount = json_body(req)?;
    if body.provider != "aws" {
        return Err(DomainError::Invalid(format!(
            "provider '{}' is not supported: only \"aws\" is",
            body.provider
        ))
        .into());
    }
    let role_arn = RoleArn::parse(&body.role_arn)?;
    service.check_customer_role(&role_arn)?;
    let region = AwsRegion::parse(&body.region)?;
    let view = api.store.cloud_account_view(&org, orgs::store::Reader::Member(&caller.user_id)).await?;
    let grant = authz::may(&view.membership, &view.organization.settings, Action::ConfigureAccount)?;
    let external_id = match view.external_id {
        Some(id) => id,
        None => api.store.ensure_external_id(&org).await?,
    };
    let verified = cloud.verify(&role_arn, &external_id, &region).await.map_err(|e| match e {
        CloudError::Refused { code, .. } if code == EXTERNAL_ID_NOT_REQUIRED => DomainError::Unprocessable(format!(
            "the role does not require the external id; any tenant could claim it: add the condition sts:ExternalId = {} to its trust policy (the policy shown for this organization has it)",
            external_id.as_str()
        )),
        // The cloud's message names the service's own role: only its code goes back.
        CloudError::Refused { code, message } => {
            tracing::info!(%code, %message, "the cloud refused the role");
            DomainError::Unprocessable(format!(
                "the role could not be used ({code}): give it the trust policy shown for this organization, which lets this service assume it with external id {}",
                external_id.as_str()
            ))
        }
        CloudError::Unavailable { context, source } => DomainError::Unavailable { context, source },
    })?;
    let now = api.now();
    let account = CloudAccount {
        provider: Provider::Aws,
        role_arn,
        region,
        account_id: verified.account_id,
        verified_at: now,
        configured_by: caller.user_id.clone(),
    };
    api.store.configure_cloud_account(&view.membership, &grant, &external_id, &account, now).await?;
    json(StatusCode::OK, &account)
}
