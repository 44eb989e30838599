//! `POST /v1/organizations/{org_id}/webhooks`: registers an endpoint for the event types it asks
//! for. Its secret is in the answer, and only there. At most 10 per organization, held by a
//! condition. The owner and admins; in the audit log.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::contract::{NewWebhook, WebhookWithSecret};
use orgs::domain::api_keys::account_description;
use orgs::domain::authz::{self, Action};
use orgs::domain::webhooks::{WebhookUrl, event_types};
use orgs::http::{ApiError, json, json_body, org_param, respond};

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, create(api, &req).await))
}

async fn create(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = api.authenticate(req).await?;
    let org = org_param(req)?;
    let body: NewWebhook = json_body(req)?;
    let url = WebhookUrl::parse(&body.url, api.webhook_targets)?;
    let events = event_types(&body.events)?;
    let description = account_description(body.description.as_deref().unwrap_or(""))?;
    let (webhook, secret) = orgs::app::reading_again(|| async {
        let (organization, membership) = api.membership_in(&org, &caller).await?;
        let grant = authz::may(&membership, &organization.settings, Action::ManageWebhooks)?;
        Ok(api.store.create_webhook(&membership, &grant, &url, &events, &description, api.now()).await?)
    })
    .await?;
    json(StatusCode::CREATED, &WebhookWithSecret { secret: secret.as_str().to_owned(), webhook })
}
