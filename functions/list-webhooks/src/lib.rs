//! `GET /v1/organizations/{org_id}/webhooks`: the organization's webhook endpoints (never their
//! secrets). The owner and admins.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::contract::Webhooks;
use orgs::domain::authz::{self, Action};
use orgs::domain::webhooks::{EventType, MAX_WEBHOOKS};
use orgs::http::{ApiError, json, org_param, respond};

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, list(api, &req).await))
}

async fn list(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = api.authenticate(req).await?;
    let org = org_param(req)?;
    let (organization, membership) = api.membership_in(&org, &caller).await?;
    authz::may(&membership, &organization.settings, Action::ManageWebhooks)?;
    let webhooks = api.store.webhooks(&org).await?;
    json(
        StatusCode::OK,
        &Webhooks { webhooks, max_webhooks: MAX_WEBHOOKS, event_types: EventType::ALL.to_vec() },
    )
}
