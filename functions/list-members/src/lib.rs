//! `GET /v1/organizations/{org_id}/members?limit=&cursor=`: the Members list, a page at a time in
//! a stable order (by user id), strongly consistent. Pending invitations are listed by
//! `GET .../invitations`.

use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::contract::MembersPage;
use orgs::domain::Member;
use orgs::domain::authz::{self, Action};
use orgs::http::{ApiError, json, org_param, page_request, respond};

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, members(api, &req).await))
}

async fn members(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = api.principal(req).await?;
    let org = org_param(req)?;
    let paging = page_request(req)?;
    let (organization, membership) = api.acting_in(&org, &caller).await?;
    authz::may(&membership, &organization.settings, Action::Read)?;
    let page = api.store.members_page(&org, &paging).await?;
    json(
        lambda_http::http::StatusCode::OK,
        &MembersPage {
            org_id: organization.org_id,
            name: organization.name,
            members: page.items.iter().map(Member::from).collect(),
            next_cursor: page.next_cursor,
        },
    )
}
