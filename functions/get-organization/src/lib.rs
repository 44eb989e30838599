//! `GET /v1/organizations/{org_id}`: the organization and the caller's role in it. Non-members
//! get 404: they may not learn that it exists.

use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::domain::{Organization, Role};
use orgs::http::{ApiError, json, org_param, respond};
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
    let org = org_param(req)?;
    let (organization, membership) = api.membership_in(&org, &caller).await?;
    json(lambda_http::http::StatusCode::OK, &OrganizationView { organization, role: membership.role })
}
