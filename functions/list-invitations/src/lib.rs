//! `GET /v1/organizations/{org_id}/invitations?status=&limit=&cursor=`: the organization's
//! invitations, newest first, each with the state of its email; `status` is one of `pending`,
//! `accepted`, `declined`, `revoked`, `expired`. Every member may read it.

use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::contract::{InvitationsPage, ListedInvitation};
use orgs::domain::InvitationStatus;
use orgs::domain::authz::{self, Action};
use orgs::http::{ApiError, json, org_param, page_request, query_param, respond};

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, list(api, &req).await))
}

fn status(req: &Request) -> Result<Option<InvitationStatus>, ApiError> {
    query_param(req, "status")
        .map(|raw| {
            serde_json::from_value(serde_json::Value::String(raw.clone())).map_err(|_| {
                ApiError::bad_request(format!(
                    "status must be one of pending, accepted, declined, revoked, expired; not '{raw}'"
                ))
            })
        })
        .transpose()
}

async fn list(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = api.principal(req).await?;
    let org = org_param(req)?;
    let status = status(req)?;
    let paging = page_request(req)?;
    let (organization, membership) = api.acting_in(&org, &caller).await?;
    authz::may(&membership, &organization.settings, Action::Read)?;
    let page = api.store.invitations_page(&org, status, &paging, api.now()).await?;
    let page = page.map(|invitation| ListedInvitation {
        mail: invitation.mail_status(),
        mail_problem: invitation.mail_problem.as_ref().map(|p| p.reason.clone()),
        invitation,
    });
    json(
        lambda_http::http::StatusCode::OK,
        &InvitationsPage { invitations: page.items, next_cursor: page.next_cursor },
    )
}
