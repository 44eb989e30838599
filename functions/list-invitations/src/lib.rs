//! `GET /v1/organizations/{org_id}/invitations?status=&limit=&cursor=`: the organization's
//! invitations, newest first, each with the state of its email; `status` is one of `pending`,
//! `accepted`, `declined`, `revoked`, `expired`. Every member may read it.

use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::domain::authz::{self, Action};
use orgs::domain::{Invitation, InvitationStatus, MailStatus};
use orgs::http::{ApiError, json, org_param, page_request, query_param, respond};
use serde::Serialize;

#[derive(Serialize)]
struct Listed {
    #[serde(flatten)]
    invitation: Invitation,
    /// Whether the email went out, or why it did not arrive.
    mail: MailStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    mail_problem: Option<String>,
}

#[derive(Serialize)]
struct InvitationsPage {
    invitations: Vec<Listed>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

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
    let caller = api.authenticate(req).await?;
    let org = org_param(req)?;
    let status = status(req)?;
    let paging = page_request(req)?;
    let (organization, membership) = api.membership_in(&org, &caller).await?;
    authz::check(membership.role, &organization.settings, Action::Read)?;
    let page = api.store.invitations_page(&org, status, &paging, api.now()).await?;
    let page = page.map(|invitation| Listed {
        mail: invitation.mail_status(),
        mail_problem: invitation.mail_problem.as_ref().map(|p| p.reason.clone()),
        invitation,
    });
    json(
        lambda_http::http::StatusCode::OK,
        &InvitationsPage { invitations: page.items, next_cursor: page.next_cursor },
    )
}
