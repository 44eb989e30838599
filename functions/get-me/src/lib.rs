//! `GET /v1/me`: the dashboard. The user, their organizations with their role in each, and the
//! open invitations addressed to their email. A user whose registration trigger never ran is
//! registered here, idempotently, from the token's verified email.

use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::auth::Caller;
use orgs::contract::{Dashboard, InvitationEntry, OrganizationEntry};
use orgs::domain::{DomainError, Timestamp, User};
use orgs::http::{ApiError, json, respond};
use orgs::store::Registration;

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, dashboard(api, &req).await))
}

async fn dashboard(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = api.authenticate(req).await?;
    let now = api.now();
    let user = match api.store.user(&caller.user_id).await? {
        Some(user) => api.following_email(&caller, user).await?,
        None => provision(api, &caller, now).await?,
    };
    let (memberships, invitations) = api.store.dashboard(&user, now).await?;
    // Memberships still under an address the person no longer has move to the current one
    // (each organization on its own; one that cannot yet is tried again at the next visit).
    for membership in memberships.iter().filter(|m| m.email != user.email) {
        if let Err(e) = api.store.move_membership_email(membership, &user.email, now).await {
            tracing::warn!(org_id = %membership.org_id, error = %orgs::telemetry::chain(&e), "a membership keeps its old address for now");
        }
    }
    let mut organizations: Vec<_> = memberships
        .into_iter()
        .map(|m| OrganizationEntry {
            org_id: m.org_id,
            name: m.org_name,
            role: m.role,
            joined_at: m.joined_at,
        })
        .collect();
    organizations.sort_by(|a, b| a.joined_at.cmp(&b.joined_at).then_with(|| a.name.cmp(&b.name)));
    let invitations = invitations
        .into_iter()
        .map(|i| InvitationEntry {
            invitation_id: i.invitation_id,
            org_id: i.org_id,
            org_name: i.org_name,
            invited_by: i.invited_by,
            invited_by_email: i.invited_by_email,
            role: i.role,
            created_at: i.created_at,
            expires_at: i.expires_at,
        })
        .collect();
    json(lambda_http::http::StatusCode::OK, &Dashboard { user, organizations, invitations })
}

/// Registers a caller the trigger missed. Two concurrent first requests both land here; one
/// transaction wins and the other reads what it wrote.
async fn provision(api: &Api, caller: &Caller, now: Timestamp) -> Result<User, ApiError> {
    let email = caller.verified_email.as_ref().ok_or_else(|| {
        ApiError::from(DomainError::Forbidden(
            "this account has no verified email; sign in with an ID token that carries one".into(),
        ))
    })?;
    match api.store.register(&caller.user_id, email, api.pricing.trial, now).await? {
        Registration::Created { user, .. } => Ok(user),
        Registration::AlreadyRegistered => Ok(api
            .store
            .user(&caller.user_id)
            .await?
            .ok_or(DomainError::Corrupt("user vanished after registration".into()))?),
    }
}
