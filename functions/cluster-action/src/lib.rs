//! `POST /v1/organizations/{org_id}/clusters/{cluster_id}/start|stop|terminate`: a member asks a
//! cluster to change. Every member may start and stop; terminating needs the owner or an admin, or
//! `members_can_manage_clusters`. Only the intent is recorded (202), on condition that the cluster
//! is still in the state read: of two parallel actions exactly one wins, the other is a 409 naming
//! the state. A terminated cluster never comes back.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::domain::authz::{self, Action};
use orgs::domain::{DomainError, MemberAction};
use orgs::http::{ApiError, cluster_param, json, org_param, respond};
use orgs::store::ClusterOutcome;

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, act(api, &req).await))
}

/// The action is the route's last path segment.
fn action_of(req: &Request) -> Result<MemberAction, ApiError> {
    let path = req.uri().path().trim_end_matches('/');
    let last = path.rsplit('/').next().unwrap_or("");
    MemberAction::parse(last).ok_or_else(|| ApiError::not_found(format!("no cluster action '{last}'")))
}

async fn act(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = api.principal(req).await?;
    let org = org_param(req)?;
    let id = cluster_param(req)?;
    let action = action_of(req)?;
    // A start that lost a race for the organization's credits decides again on what is free now.
    let moved = orgs::app::reading_again(|| attempt(api, &caller, &org, &id, action)).await?;
    json(StatusCode::ACCEPTED, &moved)
}

async fn attempt(
    api: &Api,
    caller: &orgs::app::Principal,
    org: &orgs::domain::OrgId,
    id: &orgs::domain::ClusterId,
    action: MemberAction,
) -> Result<orgs::domain::Cluster, ApiError> {
    let (organization, membership) = api.acting_in(org, caller).await?;
    let needs = match action {
        MemberAction::Start | MemberAction::Stop => Action::OperateClusters,
        MemberAction::Terminate => Action::ManageClusters,
    };
    let grant = authz::may(&membership, &organization.settings, needs)?;
    let cluster = api.store.cluster(org, id).await?.ok_or(DomainError::NotFound("cluster"))?;
    Ok(api
        .store
        .transition(
            &cluster,
            action.into(),
            Some((&membership, &grant)),
            ClusterOutcome::default(),
            api.now(),
        )
        .await?)
}
