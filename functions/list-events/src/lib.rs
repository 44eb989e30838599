//! `GET /v1/organizations/{org_id}/events?limit=&cursor=`: the audit log, newest first. The owner
//! and admins read it; members get 403. Each event names its actor and subject as they were:
//! events outlive memberships, and are kept at least 400 days.

use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::contract::EventsPage;
use orgs::domain::authz::{self, Action};
use orgs::http::{ApiError, json, org_param, page_request, respond};

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, events(api, &req).await))
}

async fn events(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = api.principal(req).await?;
    let org = org_param(req)?;
    let paging = page_request(req)?;
    let (organization, membership) = api.acting_in(&org, &caller).await?;
    authz::may(&membership, &organization.settings, Action::ReadEvents)?;
    let page = api.store.events_page(&org, &paging).await?;
    json(lambda_http::http::StatusCode::OK, &EventsPage { events: page.items, next_cursor: page.next_cursor })
}
