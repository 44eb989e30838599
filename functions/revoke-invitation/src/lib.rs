//! `DELETE /v1/organizations/{org_id}/invitations/{invitation_id}`: the owner, admins, or whoever
//! sent it withdraw a pending invitation. It leaves the invitee's dashboard and answers them 404;
//! the address is free for a new invitation. An answered invitation is a 409; one already revoked,
//! or of another organization, a 404.

use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::domain::authz::{self, Action};
use orgs::domain::{DomainError, InvitationId, InvitationStatus};
use orgs::http::{ApiError, no_content, org_param, path_param, respond};

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, revoke(api, &req).await))
}

async fn revoke(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
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
    // One's own invitation may always be withdrawn; anyone else's rests on the actor's role.
    let grant = if invitation.invited_by == caller.user_id {
        None
    } else {
        Some(authz::may(&actor, &organization.settings, Action::RevokeInvitation)?)
    };
    invitation.check_revocable()?;
    api.store.revoke_invitation(&actor, grant.as_ref(), &invitation, api.now()).await?;
    no_content()
}
