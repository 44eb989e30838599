//! `PUT` / `DELETE /v1/organizations/{org_id}/clusters/{cluster_id}/ports/{port}`: opens or closes
//! a service port (TCP, from anywhere) on a cluster. The owner and admins, and members while
//! `members_can_open_ports` is on. Answers 200 with the cluster; the provisioner, following the
//! record, makes the cluster's security group match. Opening an open port changes nothing.

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::domain::authz::{self, Action};
use orgs::domain::{DomainError, parse_port};
use orgs::http::{ApiError, cluster_param, json, org_param, path_param, respond};

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, change(api, &req).await))
}

async fn change(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = api.principal(req).await?;
    let org = org_param(req)?;
    let id = cluster_param(req)?;
    let port = parse_port(&path_param(req, "port")?)?;
    let open = req.method() == Method::PUT;
    let (organization, membership) = api.acting_in(&org, &caller).await?;
    let grant = authz::may(&membership, &organization.settings, Action::OpenPorts)?;
    let cluster = api.store.cluster(&org, &id).await?.ok_or(DomainError::NotFound("cluster"))?;
    let changed = api.store.set_port(&cluster, port, open, &membership, &grant, api.now()).await?;
    json(StatusCode::OK, &changed)
}
