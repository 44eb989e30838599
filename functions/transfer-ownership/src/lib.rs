//! `POST /v1/organizations/{org_id}/ownership` `{"user_id": "..."}`: the owner hands the
//! organization to another member and becomes an admin. One transaction moves the role and the
//! organization's `owner_id` together, so there is never no owner or two; a new owner removed at
//! the same moment is a 404 and nothing changes.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::contract::{Transfer, Transferred};
use orgs::domain::authz::{self, Action};
use orgs::domain::{DomainError, Role, UserId};
use orgs::http::{ApiError, json, json_body, org_param, respond};

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, transfer(api, &req).await))
}

async fn transfer(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = api.authenticate(req).await?;
    let org = org_param(req)?;
    let body: Transfer = json_body(req)?;
    let new_owner = UserId::parse(&body.user_id).map_err(|_| DomainError::NotFound("member"))?;

    let (organization, [owner, member]) =
        api.store.organization_with(&org, [&caller.user_id, &new_owner]).await?;
    let (organization, owner) = organization.zip(owner).ok_or(DomainError::NotFound("organization"))?;
    authz::may(&owner, &organization.settings, Action::TransferOwnership)?;
    if new_owner == caller.user_id {
        return Err(DomainError::Conflict("you already own this organization".into()).into());
    }
    let member = member.ok_or(DomainError::NotFound("member"))?;
    api.store.transfer_ownership(&owner, &member, api.limits.max_owned, api.now()).await?;
    json(StatusCode::OK, &Transferred { org_id: org, owner_id: member.user_id, role: Role::Admin })
}
