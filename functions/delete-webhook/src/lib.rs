//! `DELETE /v1/organizations/{org_id}/webhooks/{webhook_id}`: nothing more is delivered to the
//! endpoint, retries included. The owner and admins; in the audit log.

use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::domain::authz::{self, Action};
use orgs::http::{ApiError, no_content, org_param, respond, webhook_param};

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, delete(api, &req).await))
}

async fn delete(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = api.authenticate(req).await?;
    let org = org_param(req)?;
    let id = webhook_param(req)?;
    orgs::app::reading_again(|| async {
        let (organization, membership) = api.membership_in(&org, &caller).await?;
        let grant = authz::may(&membership, &organization.settings, Action::ManageWebhooks)?;
        Ok(api.store.delete_webhook(&membership, &grant, &id, api.now()).await?)
    })
    .await?;
    no_content()
}
