//! `DELETE /v1/organizations/{org_id}/clusters/{cluster_id}/nodes`: every enrolled node's
//! credential stops working at once (the nodes' items go); each node enrolls again with its
//! instance identity document. The owner and admins. In the audit log.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::contract::RevokedNodes;
use orgs::domain::DomainError;
use orgs::domain::authz::{self, Action};
use orgs::http::{ApiError, cluster_param, json, org_param, respond};

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, revoke(api, &req).await))
}

async fn revoke(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = api.principal(req).await?;
    let org = org_param(req)?;
    let id = cluster_param(req)?;
    let (organization, membership) = api.acting_in(&org, &caller).await?;
    let grant = authz::may(&membership, &organization.settings, Action::ManageClusterUsers)?;
    let cluster = api.store.cluster(&org, &id).await?.ok_or(DomainError::NotFound("cluster"))?;
    let revoked = api.store.revoke_nodes(&membership, &grant, &cluster, api.now()).await?;
    json(StatusCode::OK, &RevokedNodes { cluster_id: id, revoked: revoked as u64 })
}
