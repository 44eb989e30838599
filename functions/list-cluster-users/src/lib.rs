//! `GET /v1/organizations/{org_id}/clusters/{cluster_id}/users`: who has an account on the
//! cluster (managed user management), with their cluster role, `active` or `blocked`, the
//! revision, and whether the cluster applied it: its `receipt` (nodes that applied it out of the
//! cluster's nodes, the nodes that failed it with their error) and the `delivery` that makes
//! (`applied` when every node has, `failed` when one failed, `pending` otherwise). The owner and
//! admins.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::contract::ClusterUsers;
use orgs::domain::DomainError;
use orgs::domain::authz::{self, Action};
use orgs::http::{ApiError, cluster_param, json, org_param, respond};

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, list(api, &req).await))
}

async fn list(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = api.principal(req).await?;
    let org = org_param(req)?;
    let id = cluster_param(req)?;
    let (organization, membership) = api.acting_in(&org, &caller).await?;
    authz::may(&membership, &organization.settings, Action::ManageClusterUsers)?;
    let cluster = api.store.cluster(&org, &id).await?.ok_or(DomainError::NotFound("cluster"))?;
    let users = api.store.cluster_users_with_receipts(&cluster).await?;
    json(StatusCode::OK, &ClusterUsers { users })
}
