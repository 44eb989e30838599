//! `PATCH /v1/organizations/{org_id}` `{"name": "..."}`: the owner and admins rename the
//! organization. The name is 1 to 64 characters after trimming, any script, nothing invisible.
//! The copies on memberships and invitations follow through the stream (`sync-organization-name`),
//! so every member's dashboard shows the new name within moments.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::contract::Rename;
use orgs::domain::Organization;
use orgs::domain::authz::{self, Action};
use orgs::http::{ApiError, json, json_body, org_param, respond};

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, rename(api, &req).await))
}

async fn rename(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = api.authenticate(req).await?;
    let org = org_param(req)?;
    let body: Rename = json_body(req)?;
    let (organization, actor) = api.membership_in(&org, &caller).await?;
    let grant = authz::may(&actor, &organization.settings, Action::Rename)?;
    if organization.name != body.name.as_str() {
        api.store.rename(&actor, &grant, &organization.name, &body.name, api.now()).await?;
    }
    json(StatusCode::OK, &Organization { name: body.name.into(), ..organization })
}
