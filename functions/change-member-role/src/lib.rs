//! `PATCH /v1/organizations/{org_id}/members/{user_id}` `{"role": "admin"|"member"}`: the owner
//! and admins change a member's role. Nobody changes the owner's role this way (409: ownership
//! moves by transfer), and no one is made owner. The change holds from the very next request; a
//! demotion to member withdraws the open invitations the demoted member sent.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::contract::RoleChange;
use orgs::domain::authz::{self, Action};
use orgs::domain::{DomainError, Member, Role, UserId};
use orgs::http::{ApiError, json, json_body, org_param, path_param, respond};

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, change(api, &req).await))
}

async fn change(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = api.authenticate(req).await?;
    let org = org_param(req)?;
    let target = UserId::parse(&path_param(req, "user_id")?).map_err(|_| DomainError::NotFound("member"))?;
    let body: RoleChange = json_body(req)?;
    let changed = orgs::app::reading_again(|| decide(api, &caller, &org, &target, body.role)).await?;
    json(StatusCode::OK, &Member::from(&changed))
}

/// Reads both memberships, decides, and writes on condition that the member's role is still the
/// one read (so a change decided before an owner's demotion landed cannot undo it).
async fn decide(
    api: &Api,
    caller: &orgs::auth::Caller,
    org: &orgs::domain::OrgId,
    target: &UserId,
    role: orgs::domain::InviteRole,
) -> Result<orgs::domain::Membership, ApiError> {
    let (organization, [actor, member]) = api.store.organization_with(org, [&caller.user_id, target]).await?;
    let (organization, actor) = organization.zip(actor).ok_or(DomainError::NotFound("organization"))?;
    let grant = authz::may(&actor, &organization.settings, Action::ChangeRole)?;
    let member = member.ok_or(DomainError::NotFound("member"))?;
    if member.role == Role::Owner {
        return Err(DomainError::Conflict(
            "the owner's role does not change this way: transfer ownership instead".into(),
        )
        .into());
    }
    // An admin stepping down to member rests on nothing but their own membership.
    let grant = (actor.user_id != member.user_id).then_some(grant);
    Ok(api.store.change_role(&actor, grant.as_ref(), &member, role, api.now()).await?)
}
