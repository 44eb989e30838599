//! `PUT /v1/organizations/{org_id}/cloud-account` `{"provider": "aws", "role_arn", "region"}`: the
//! owner or an admin connects the organization's AWS account. The service checks the ARN itself,
//! then proves the role: AssumeRole with the organization's external id, and one harmless read as
//! the role, which must answer for the ARN's account. Malformed: 400. Refused by the cloud: 422
//! naming the cloud's error code. Nothing is saved unless the role was proven.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::cloud::{Cloud, CloudError};
use orgs::contract::ConfigureAccount;
use orgs::domain::authz::{self, Action};
use orgs::domain::{AwsRegion, CloudAccount, DomainError, Provider, RoleArn};
use orgs::http::{ApiError, json, json_body, org_param, respond};

pub async fn handle(api: &Api, cloud: &dyn Cloud, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, configure(api, cloud, &req).await))
}

async fn configure(api: &Api, cloud: &dyn Cloud, req: &Request) -> Result<Response<Body>, ApiError> {
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
    let region = AwsRegion::parse(&body.region)?;
    let view = api
        .store
        .cloud_account_view(&org, &caller.user_id)
        .await?
        .ok_or(DomainError::NotFound("organization"))?;
    let grant = authz::check(view.membership.role, &view.organization.settings, Action::ConfigureAccount)?;
    let external_id = match view.external_id {
        Some(id) => id,
        None => api.store.ensure_external_id(&org).await?,
    };
    let verified = cloud.verify(&role_arn, &external_id, &region).await.map_err(|e| match e {
        CloudError::Refused { code, message } => DomainError::Unprocessable(format!(
            "the role could not be used: {code} ({message}); check its trust policy allows this service with external id {}",
            external_id.as_str()
        )),
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
