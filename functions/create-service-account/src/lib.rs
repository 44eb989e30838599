//! `POST /v1/organizations/{org_id}/service-accounts`: an identity the organization owns, for
//! automation. It belongs to the organization, not to the owner or admin who made it, and keeps
//! working after they leave. At most 20 per organization, held by a condition. In the audit log.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::contract::NewServiceAccount;
use orgs::domain::api_keys::{account_description, account_name};
use orgs::domain::authz::{self, Action};
use orgs::http::{ApiError, json, json_body, org_param, respond};

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, create(api, &req).await))
}

async fn create(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = api.authenticate(req).await?;
    let org = org_param(req)?;
    let body: NewServiceAccount = json_body(req)?;
    let name = account_name(&body.name)?;
    let description = account_description(body.description.as_deref().unwrap_or(""))?;
    let created = orgs::app::reading_again(|| async {
        let (organization, membership) = api.membership_in(&org, &caller).await?;
        let grant = authz::may(&membership, &organization.settings, Action::ManageServiceAccounts)?;
        Ok(api.store.create_service_account(&membership, &grant, &name, &description, api.now()).await?)
    })
    .await?;
    json(StatusCode::CREATED, &created)
}
