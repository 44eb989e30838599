//! `POST /v1/organizations/{org_id}/webhooks/{webhook_id}/secret`: a new secret for the endpoint,
//! in the answer and only there; the old one signs nothing from now on. The owner and admins; in
//! the audit log.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::contract::WebhookWithSecret;
use orgs::domain::authz::{self, Action};
use orgs::http::{ApiError, json, org_param, respond, webhook_param};

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, rotate(api, &req).await))
}

async fn rotate(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = api.authenticate(req).await?;
    let org = org_param(req)?;
    let id = webhook_param(req)?;
    let (webhook, secret) = orgs::app::reading_again(|| async {
        let (organization, membership) = api.membership_in(&org, &caller).await?;
        let grant = authz::may(&membership, &organization.settings, Action::ManageWebhooks)?;
        Ok(api.store.rotate_webhook_secret(&membership, &grant, &id, api.now()).await?)
    })
    .await?;
    json(StatusCode::OK, &WebhookWithSecret { secret: secret.as_str().to_owned(), webhook })
}
