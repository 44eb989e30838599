//! `GET /v1/organizations/{org_id}/clusters/{cluster_id}`: one cluster: state, who created it and
//! who last acted on it, instances, user management, times, last cloud error.

use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::domain::DomainError;
use orgs::domain::authz::{self, Action};
use orgs::http::{ApiError, cluster_param, json, org_param, respond};

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, read(api, &req).await))
}

async fn read(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = api.principal(req).await?;
    let org = org_param(req)?;
    let id = cluster_param(req)?;
    let (organization, membership) = api.acting_in(&org, &caller).await?;
    authz::may(&membership, &organization.settings, Action::Read)?;
    let cluster = api.store.cluster(&org, &id).await?.ok_or(DomainError::NotFound("cluster"))?;
    json(lambda_http::http::StatusCode::OK, &cluster)
}
