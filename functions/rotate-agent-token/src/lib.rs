//! `POST /v1/organizations/{org_id}/clusters/{cluster_id}/agent-token`: a new token for the
//! cluster's agent, shown this once; the old one stops working at once (its hash is replaced).
//! The owner and admins; not on a terminated cluster (409). In the audit log.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::contract::RotatedToken;
use orgs::domain::authz::{self, Action};
use orgs::domain::{AgentToken, DomainError};
use orgs::http::{ApiError, cluster_param, json, org_param, respond};
use orgs::store::AgentItem;

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, rotate(api, &req).await))
}

async fn rotate(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = api.authenticate(req).await?;
    let org = org_param(req)?;
    let id = cluster_param(req)?;
    let (organization, membership) = api.membership_in(&org, &caller).await?;
    let grant = authz::check(membership.role, &organization.settings, Action::ManageClusterUsers)?;
    let cluster = api.store.cluster(&org, &id).await?.ok_or(DomainError::NotFound("cluster"))?;
    let token = AgentToken::generate();
    let agent = AgentItem::new(org, id, token.hash(), api.now());
    api.store.rotate_agent_token(&membership, &grant, &cluster, &agent).await?;
    json(StatusCode::OK, &RotatedToken { cluster_id: id, agent_token: token.as_str() })
}
