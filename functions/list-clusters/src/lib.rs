//! `GET /v1/organizations/{org_id}/clusters?limit=&cursor=`: every member sees the organization's
//! clusters, whoever created them, oldest first.

use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::contract::ClustersPage;
use orgs::domain::authz::{self, Action};
use orgs::http::{ApiError, json, org_param, page_request, respond};

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, list(api, &req).await))
}

async fn list(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = api.principal(req).await?;
    let org = org_param(req)?;
    let paging = page_request(req)?;
    let (organization, membership) = api.acting_in(&org, &caller).await?;
    authz::may(&membership, &organization.settings, Action::Read)?;
    let page = api.store.clusters_page(&org, &paging).await?;
    json(
        lambda_http::http::StatusCode::OK,
        &ClustersPage { clusters: page.items, next_cursor: page.next_cursor },
    )
}
