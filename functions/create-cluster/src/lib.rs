//! `POST /v1/organizations/{org_id}/clusters` `{"name", "instance_type", "workers",
//! "user_management": "managed"|"disabled"}`: a cluster of one head node and `workers` workers in
//! the organization's cloud account, answered 202 in state `pending`. This only records the
//! intent; the provisioner, fed by the stream, launches the instances. Owners and admins, and
//! members while `members_can_manage_clusters` is on. Needs a connected account (409) and credits
//! left (402). No cluster credential exists to hand out: each node enrolls with its instance
//! identity document (see `cluster-agent`).

use lambda_http::http::{HeaderValue, StatusCode, header::LOCATION};
use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::domain::authz::{self, Action};
use orgs::domain::{Cluster, ClusterSpec, DomainError};
use orgs::http::{ApiError, json, json_body, org_param, respond};

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, create(api, &req).await))
}

async fn create(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = api.principal(req).await?;
    let org = org_param(req)?;
    let body: ClusterSpec = json_body(req)?;
    // Bad input is refused before anything is read.
    body.check()?;
    // The account may change between the read and the write (a lost race): read again.
    let cluster = orgs::app::reading_again(|| attempt(api, &caller, org, body.clone())).await?;
    let location = format!("/v1/organizations/{org}/clusters/{}", cluster.cluster_id);
    let mut response = json(StatusCode::ACCEPTED, &cluster)?;
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(LOCATION, location);
    }
    Ok(response)
}

async fn attempt(
    api: &Api,
    caller: &orgs::app::Principal,
    org: orgs::domain::OrgId,
    body: ClusterSpec,
) -> Result<orgs::domain::Cluster, ApiError> {
    let view = api.store.cloud_account_view(&org, api.reader(caller)).await?;
    api.used(&view.membership).await?;
    let grant = authz::may(&view.membership, &view.organization.settings, Action::ManageClusters)?;
    let account = view.account.ok_or_else(|| {
        DomainError::Conflict(
            "this organization has no cloud account yet: the owner or an admin connects one first".into(),
        )
    })?;
    let cluster =
        Cluster::pending(org, body, &view.membership.user_id, &account, &api.pricing.rates, api.now())?;
    api.store
        .create_cluster(&view.membership, &grant, &cluster, &account, api.limits.max_live_clusters)
        .await?;
    Ok(cluster)
}
