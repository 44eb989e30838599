//! `GET /v1/organizations/{org_id}/members`: the Members page. Members with email, role and
//! join date, and the open invitations, from one strongly consistent query.

use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::domain::{DomainError, Member, OrgId, PendingInvitation};
use orgs::http::{ApiError, json, path_param, respond};
use serde::Serialize;

#[derive(Serialize)]
struct MembersPage {
    org_id: OrgId,
    name: String,
    members: Vec<Member>,
    invitations: Vec<PendingInvitation>,
}

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, members(api, &req).await))
}

async fn members(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = api.authenticate(req).await?;
    let org = OrgId::parse(&path_param(req, "org_id")?).map_err(|_| DomainError::NotFound("organization"))?;
    let page = api.store.org_members(&org, api.now()).await?.ok_or(DomainError::NotFound("organization"))?;
    if page.membership_of(&caller.user_id).is_none() {
        return Err(DomainError::NotFound("organization").into());
    }
    json(
        lambda_http::http::StatusCode::OK,
        &MembersPage {
            org_id: page.organization.org_id,
            name: page.organization.name,
            members: page.members.iter().map(Member::from).collect(),
            invitations: page.pending,
        },
    )
}
