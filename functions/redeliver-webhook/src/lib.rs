//! `POST /v1/organizations/{org_id}/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver`:
//! the delivery is due again now (the next run of `deliver-webhooks` sends it, with the same event
//! id and body), with a fresh 24-hour window. The owner and admins; in the audit log.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::domain::DomainError;
use orgs::domain::authz::{self, Action};
use orgs::http::{ApiError, json, org_param, path_param, respond, webhook_param};

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, redeliver(api, &req).await))
}

async fn redeliver(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = api.authenticate(req).await?;
    let org = org_param(req)?;
    let id = webhook_param(req)?;
    let delivery_id = path_param(req, "delivery_id")?;
    // A delivery id is the 40 digits of its event's place in the stream; anything else is none.
    if delivery_id.len() != 40 || !delivery_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DomainError::NotFound("delivery").into());
    }
    let delivery = orgs::app::reading_again(|| async {
        let (organization, membership) = api.membership_in(&org, &caller).await?;
        let grant = authz::may(&membership, &organization.settings, Action::ManageWebhooks)?;
        Ok(api.store.redeliver_webhook(&membership, &grant, &id, &delivery_id, api.now()).await?)
    })
    .await?;
    json(StatusCode::ACCEPTED, &delivery)
}
