//! `PUT /v1/organizations/{org_id}/permissions`: the owner and admins replace the organization's
//! permissions and settings document (`members_can_invite`, `members_can_manage_clusters`,
//! `members_can_open_ports`, `invitation_ttl_days`). It takes effect on the very next request;
//! the audit log records what changed.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::domain::Settings;
use orgs::domain::authz::{self, Action};
use orgs::http::{ApiError, json, json_body, org_param, respond};

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, update(api, &req).await))
}

async fn update(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = api.authenticate(req).await?;
    let org = org_param(req)?;
    let settings: Settings = json_body(req)?;
    let (organization, actor) = api.membership_in(&org, &caller).await?;
    let grant = authz::check(actor.role, &organization.settings, Action::UpdateSettings)?;
    if settings != organization.settings {
        api.store.update_settings(&actor, &grant, &organization.settings, &settings, api.now()).await?;
    }
    json(StatusCode::OK, &settings)
}
