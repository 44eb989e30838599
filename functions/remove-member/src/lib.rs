//! `DELETE /v1/organizations/{org_id}/members/{user_id}`: owners and admins remove a member, and
//! any member may remove themselves (leave). The owner cannot be removed. Authorization is read
//! on every request, so the removed user's very next request is refused.

use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::domain::authz::{self, Action};
use orgs::domain::{DomainError, Role, UserId};
use orgs::http::{ApiError, no_content, org_param, path_param, respond};

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, remove(api, &req).await))
}

async fn remove(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = api.authenticate(req).await?;
    let org = org_param(req)?;
    let target = UserId::parse(&path_param(req, "user_id")?).map_err(|_| DomainError::NotFound("member"))?;
    // An invitation of theirs answered meanwhile does not change the removal: it reads again.
    orgs::app::reading_again(|| attempt(api, &caller, &org, &target)).await?;
    no_content()
}

async fn attempt(
    api: &Api,
    caller: &orgs::auth::Caller,
    org: &orgs::domain::OrgId,
    target: &UserId,
) -> Result<(), ApiError> {
    let (organization, [remover, removed]) =
        api.store.organization_with(org, [&caller.user_id, target]).await?;
    let (organization, remover) = organization.zip(remover).ok_or(DomainError::NotFound("organization"))?;
    let removed = removed.ok_or(DomainError::NotFound("member"))?;
    if removed.role == Role::Owner {
        return Err(
            DomainError::Conflict("the owner cannot be removed from their organization".into()).into()
        );
    }
    let leaving = remover.user_id == removed.user_id;
    let action = if leaving { Action::Leave } else { Action::RemoveMember };
    let grant = authz::may(&remover, &organization.settings, action)?;
    // Leaving rests on nothing but being a member, which the delete itself requires.
    let grant = (!leaving).then_some(grant);
    api.store.remove_member(&remover, grant.as_ref(), &removed, api.now()).await?;
    Ok(())
}
