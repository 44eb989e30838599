//! `GET /v1/organizations/{org_id}/webhooks/{webhook_id}/deliveries`: the endpoint's newest 50
//! deliveries, with their status, attempts, last answer code and the start of the last answer.
//! The owner and admins.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::contract::WebhookDeliveries;
use orgs::domain::DomainError;
use orgs::domain::authz::{self, Action};
use orgs::http::{ApiError, json, org_param, respond, webhook_param};

/// How many deliveries the log shows.
const SHOWN: i32 = 50;

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, list(api, &req).await))
}

async fn list(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = api.authenticate(req).await?;
    let org = org_param(req)?;
    let id = webhook_param(req)?;
    let (organization, membership) = api.membership_in(&org, &caller).await?;
    authz::may(&membership, &organization.settings, Action::ManageWebhooks)?;
    if !api.store.webhooks(&org).await?.iter().any(|w| w.webhook_id == id) {
        return Err(DomainError::NotFound("webhook").into());
    }
    let deliveries = api.store.webhook_deliveries(&org, &id, SHOWN).await?;
    json(StatusCode::OK, &WebhookDeliveries { deliveries })
}
