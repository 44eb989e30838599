//! `POST /v1/organizations/{org_id}/invitations`: owners and admins invite an email address, and
//! plain members too (as members) when `members_can_invite` is on. The invitation lasts the
//! organization's `invitation_ttl_days`, and counts against both rate limits. A service account's
//! key with `invite_member` invites members: the email names the organization's service account,
//! and the invitation stands while the account exists. This function only writes; the
//! invitation's stream record reaches `send-invitation-email`.

use lambda_http::http::{HeaderValue, StatusCode, header::LOCATION};
use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::app::Principal;
use orgs::contract::InviteRequest;
use orgs::domain::authz::{self, Action};
use orgs::domain::{DomainError, Invitation, NewInvitation};
use orgs::http::{ApiError, json, json_body, org_param, respond};

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, invite(api, &req).await))
}

async fn invite(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let who = api.principal(req).await?;
    let org = org_param(req)?;
    let body: InviteRequest = json_body(req)?;
    let request = NewInvitation { email: body.email, role: body.role };

    let (organization, inviter, logs) = match &who {
        // The rate limits' logs come with the organization and the membership: one read round trip.
        Principal::Person(caller) => api
            .store
            .organization_for_sending(&org, &caller.user_id, &request.email)
            .await?
            .ok_or(DomainError::NotFound("organization"))?,
        // A key names its service account only once its item is read: the logs come after.
        Principal::Key { .. } => {
            let (organization, inviter) = api.acting_in(&org, &who).await?;
            let logs = api.store.rate_logs(&org, &inviter.user_id, &request.email).await?;
            (organization, inviter, logs)
        }
    };
    let grant = authz::may(&inviter, &organization.settings, Action::Invite(request.role))?;
    let now = api.now();
    let invitation = Invitation::issue(&inviter, request, &organization.settings, now);
    api.store.create_invitation(&inviter, &grant, &invitation, logs, &api.limits, now).await?;

    let mut response = json(StatusCode::CREATED, &invitation)?;
    if let Ok(location) = HeaderValue::from_str(&format!("/v1/invitations/{}", invitation.invitation_id)) {
        response.headers_mut().insert(LOCATION, location);
    }
    Ok(response)
}
