//! `POST /v1/organizations/{org_id}/invitations/{invitation_id}/resend`: sends a pending
//! invitation's email again and restarts its expiry from now (an expired one comes back to life).
//! The owner and admins may resend any; whoever sent it may resend their own while they may still
//! invite with its role. Each resend counts against the rate limits.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::domain::authz::{self, Action};
use orgs::domain::{DomainError, InvitationId, InvitationStatus};
use orgs::http::{ApiError, json, org_param, path_param, respond};

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, resend(api, &req).await))
}

async fn resend(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = api.authenticate(req).await?;
    let org = org_param(req)?;
    let id = InvitationId::parse(&path_param(req, "invitation_id")?)
        .map_err(|_| DomainError::NotFound("invitation"))?;
    let (organization, actor) = api.membership_in(&org, &caller).await?;
    let invitation = api
        .store
        .invitation(&id)
        .await?
        .filter(|i| i.org_id == org && i.status != InvitationStatus::Revoked)
        .ok_or(DomainError::NotFound("invitation"))?;
    let action = if invitation.invited_by == caller.user_id {
        Action::Invite(invitation.role)
    } else {
        Action::ResendInvitation
    };
    let grant = authz::may(&actor, &organization.settings, action)?;
    invitation.check_revocable()?;
    let now = api.now();
    let resent = api
        .store
        .resend_invitation(&actor, &grant, &invitation, &organization.settings, &api.limits, now)
        .await?;
    json(StatusCode::OK, &resent.shown_at(now))
}
