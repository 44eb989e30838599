//! `GET /v1/organizations/{org_id}`: the organization, the caller's role in it and its credits
//! (granted, consumed, balance; consumed trails running clusters by at most the scheduled job's
//! period). Non-members get 404: they may not learn that it exists. The `ETag` (and
//! `settings_version`) is the version of its settings, which `PUT .../permissions` takes in
//! `If-Match`.

use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::contract::OrganizationView;
use orgs::http::{ApiError, json, org_param, respond};

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, organization(api, &req).await))
}

async fn organization(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = api.principal(req).await?;
    let org = org_param(req)?;
    let (organization, membership, credits) =
        api.store.organization_with_credits(&org, api.reader(&caller)).await?;
    api.used(&membership).await?;
    let version = organization.settings.version();
    let mut response = json(
        lambda_http::http::StatusCode::OK,
        &OrganizationView {
            abilities: orgs::domain::authz::abilities(&membership, &organization.settings),
            settings_version: version.clone(),
            organization,
            role: membership.role,
            credits,
        },
    )?;
    orgs::http::set_etag(&mut response, &version);
    Ok(response)
}
