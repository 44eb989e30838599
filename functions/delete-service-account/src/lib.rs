//! `DELETE /v1/organizations/{org_id}/service-accounts/{service_account_id}`: the account and
//! every key it holds go in one write, so its keys stop working at once. The owner and admins.
//! In the audit log.

use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::domain::authz::{self, Action};
use orgs::domain::{DomainError, ServiceAccountId};
use orgs::http::{ApiError, no_content, org_param, path_param, respond};

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, delete(api, &req).await))
}

async fn delete(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = api.authenticate(req).await?;
    let org = org_param(req)?;
    let id = ServiceAccountId::parse(&path_param(req, "service_account_id")?)
        .map_err(|_| DomainError::NotFound("service account"))?;
    let (organization, membership) = api.membership_in(&org, &caller).await?;
    let grant = authz::may(&membership, &organization.settings, Action::ManageServiceAccounts)?;
    api.store.delete_service_account(&membership, &grant, &id, api.now()).await?;
    no_content()
}
