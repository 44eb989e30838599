//! `GET /v1/organizations/{org_id}`: the organization and the caller's role in it. Non-members
//! get 404: they may not learn that it exists.

use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::domain::{DomainError, OrgId, Organization, Role};
use orgs::http::{ApiError, json, path_param, respond};
use serde::Serialize;

#[derive(Serialize)]
struct OrganizationView {
    #[serde(flatten)]
    organization: Organization,
    role: Role,
}

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, organization(api, &req).await))
}

async fn organization(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = api.authenticate(req).await?;
    let org = OrgId::parse(&path_param(req, "org_id")?).map_err(|_| DomainError::NotFound("organization"))?;
    let (organization, membership) = api
        .store
        .organization_for(&org, &caller.user_id)
        .await?
        .ok_or(DomainError::NotFound("organization"))?;
    json(lambda_http::http::StatusCode::OK, &OrganizationView { organization, role: membership.role })
}
