//! `POST /v1/organizations/{org_id}/invitations`: owners and admins invite an email address, and
//! plain members too (as members) when `members_can_invite` is on. The invitation lasts the
//! organization's `invitation_ttl_days`, and counts against both rate limits. This function only
//! writes; the invitation's stream record reaches `send-invitation-email`.

use lambda_http::http::{HeaderValue, StatusCode, header::LOCATION};
use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::contract::InviteRequest;
use orgs::domain::authz::{self, Action};
use orgs::domain::{DomainError, Invitation, NewInvitation};
use orgs::http::{ApiError, json, json_body, org_param, respond};

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, invite(api, &req).await))
}

async fn invite(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = api.authenticate(req).await?;
    let org = org_param(req)?;
    let body: InviteRequest = json_body(req)?;
    let request = NewInvitation { email: body.email, role: body.role };

    // The rate limits' logs come with the organization and the membership: one read round trip.
    let (organization, inviter, logs) = api
        .store
        .organization_for_sending(&org, &caller.user_id, &request.email)
        .await?
        .ok_or(DomainError::NotFound("organization"))?;
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
