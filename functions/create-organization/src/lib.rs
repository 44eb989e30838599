//! `POST /v1/organizations` `{"name": "..."}`: the caller creates another organization and owns
//! it. A user may own at most `MAX_OWNED_ORGANIZATIONS` (20): past it, 409. It starts with no
//! credits: a person's trial credits went to their first organization when they registered.

use lambda_http::http::{HeaderValue, StatusCode, header::LOCATION};
use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::contract::{CreatedOrganization, NewOrganization};
use orgs::domain::{DomainError, Organization, Role};
use orgs::http::{ApiError, json, json_body, respond};

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, create(api, &req).await))
}

async fn create(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = api.authenticate(req).await?;
    let body: NewOrganization = json_body(req)?;
    let user = api
        .store
        .user(&caller.user_id)
        .await?
        .ok_or_else(|| DomainError::Conflict("register first: GET /v1/me creates your account".into()))?;
    let organization = Organization::named(&user.user_id, body.name, api.now());
    api.store.create_organization(&user, &organization, api.limits.max_owned).await?;
    let location = format!("/v1/organizations/{}", organization.org_id);
    let mut response = json(StatusCode::CREATED, &CreatedOrganization { organization, role: Role::Owner })?;
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(LOCATION, location);
    }
    Ok(response)
}
