//! The cluster agent's API. Clusters sit in customers' networks and call out. No person ever
//! holds a cluster credential: each node enrolls itself with the instance identity document EC2
//! signs for it (see `orgs::domain::node_identity`), and gets a credential bound to that instance
//! of that cluster for one hour (`Authorization: Bearer ocn_...`, stored as a hash); it enrolls
//! again before the hour ends. Anything else (a user's JWT, another node's or cluster's
//! credential, an expired or revoked one, a terminated cluster's) is a 401 that says nothing
//! about the cluster. These routes have no JWT authorizer.
//!
//! - `POST /v1/agent/clusters/{cluster_id}/enroll` `{"org_id", "document", "signature", "nonce"}`: the
//!   node's credential and when it ends.
//! - `GET /v1/agent/clusters/{cluster_id}/users?after={revision}&limit=`: the account changes
//!   after that revision, in revision order (at most `limit`, 1 to 500, default 100); ask again
//!   after the answer's `revision` until it reaches `latest_revision`.
//! - `POST /v1/agent/clusters/{cluster_id}/users/ack` `{"revision", "results": [{"user_id",
//!   "status": "applied"|"failed", "error"}]}`: what the node applied, up to that revision; a
//!   record that changed since stays pending (counted as `stale`).
//! - `POST /v1/agent/clusters/{cluster_id}/heartbeat` `{"active_sessions", "last_activity_at"}`:
//!   204; what idle stop reads (every node's, combined).

use lambda_http::http::{Method, StatusCode, header::AUTHORIZATION};
use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::contract::{Ack, Enroll, Enrolled, Heartbeat};
use orgs::domain::cluster_users::{hash, matches};
use orgs::domain::node_identity::{self, CREDENTIAL_SECONDS, NodeCredential, Refusal};
use orgs::domain::{AgentReport, ClusterState, DomainError};
use orgs::http::{ApiError, cluster_param, json, json_body, query_param, respond};
use orgs::store::NodeItem;

/// Most results one acknowledgement carries.
const MAX_RESULTS: usize = 500;

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, serve(api, &req).await))
}

async fn serve(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let path = req.uri().path().trim_end_matches('/');
    let last = path.rsplit('/').next().unwrap_or("");
    if (req.method(), last) == (&Method::POST, "enroll") {
        return enroll(api, req).await;
    }
    let node = authenticate(api, req).await?;
    match (req.method(), last) {
        (&Method::GET, "users") => pull(api, req, &node).await,
        (&Method::POST, "ack") => ack(api, req, &node).await,
        (&Method::POST, "heartbeat") => heartbeat(api, req, &node).await,
        _ => Err(ApiError::not_found("no such agent route")),
    }
}

fn refused() -> ApiError {
    ApiError::unauthorized("a credential of this cluster's node is required")
}

/// The node, if the bearer credential is its current one, unexpired, and its cluster lives.
async fn authenticate(api: &Api, req: &Request) -> Result<NodeItem, ApiError> {
    let cluster = cluster_param(req).map_err(|_| refused())?;
    let header = req.headers().get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    let presented = orgs::auth::bearer(header).ok_or_else(refused)?;
    // Its form names the organization and the instance: one read finds the node and its cluster.
    let (org, instance) = NodeCredential::parse(presented).ok_or_else(refused)?;
    let (node, found) = api.store.node_with_cluster(&org, &cluster, &instance).await?;
    let node = node.ok_or_else(refused)?;
    let live = found.is_some_and(|c| c.state != ClusterState::Terminated && c.instances.contains(&instance));
    if matches(presented, &node.credential_hash) && node.expires_at > api.now() && node.org_id == org && live
    {
        Ok(node)
    } else {
        Err(refused())
    }
}

async fn enroll(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let cluster_id = cluster_param(req).map_err(|_| refused())?;
    let body: Enroll = json_body(req)?;
    node_identity::check_nonce(&body.nonce)?;
    let refuse = |why: Refusal| {
        // The operator learns why; the caller learns nothing.
        tracing::warn!(cluster_id = %cluster_id, reason = %why, "enrollment refused");
        refused()
    };
    let doc = api.node_identity.verify(&body.document, &body.signature).map_err(refuse)?;
    let cluster =
        api.store.cluster(&body.org_id, &cluster_id).await?.ok_or_else(|| refuse(Refusal::NoCluster))?;
    if cluster.state == ClusterState::Terminated {
        return Err(refuse(Refusal::NoCluster));
    }
    if doc.account_id != cluster.account_id
        || doc.region != cluster.region.as_str()
        || !cluster.instances.contains(&doc.instance_id)
        || !node_identity::is_instance_id(&doc.instance_id)
    {
        return Err(refuse(Refusal::NotThisCluster(doc.instance_id)));
    }
    let now = api.now();
    let expires_at = now.plus(time::Duration::seconds(CREDENTIAL_SECONDS));
    let credential = NodeCredential::generate(&cluster.org_id, &doc.instance_id);
    let enrolled = api
        .store
        .enroll_node(&cluster, &doc, &hash(&body.nonce), &credential.hash(), expires_at, now)
        .await?
        .map_err(refuse)?;
    tracing::info!(cluster_id = %cluster_id, instance_id = %enrolled.instance_id, "node enrolled");
    json(
        StatusCode::OK,
        &Enrolled {
            cluster_id,
            instance_id: &enrolled.instance_id,
            credential: credential.as_str(),
            expires_at: enrolled.expires_at,
        },
    )
}

async fn pull(api: &Api, req: &Request, node: &NodeItem) -> Result<Response<Body>, ApiError> {
    let number = |name: &str, default: u64, min: u64, max: u64| -> Result<u64, ApiError> {
        match query_param(req, name) {
            None => Ok(default),
            Some(raw) => raw.parse::<u64>().ok().filter(|n| (min..=max).contains(n)).ok_or_else(|| {
                ApiError::bad_request(format!("'{name}' must be a whole number from {min} to {max}"))
            }),
        }
    };
    // Revisions are JSON Schema int64s, as the ack's are.
    let after = number("after", 0, 0, i64::MAX as u64)?;
    let limit = number("limit", 100, 1, 500)?;
    let changes = api.store.cluster_user_changes(&node.cluster_id, after, limit as usize).await?;
    json(StatusCode::OK, &changes)
}

async fn ack(api: &Api, req: &Request, node: &NodeItem) -> Result<Response<Body>, ApiError> {
    let ack: Ack = json_body(req)?;
    if ack.results.len() > MAX_RESULTS {
        return Err(DomainError::Invalid(format!("at most {MAX_RESULTS} results per acknowledgement")).into());
    }
    // The node's own receipt first: whether a record is applied on the cluster is read from its
    // nodes' receipts (`list-cluster-users`).
    api.store.record_node_ack(node, ack.revision, &ack.results).await?;
    let done =
        api.store.acknowledge_cluster_users(&node.cluster_id, ack.revision, &ack.results, api.now()).await?;
    json(StatusCode::OK, &done)
}

async fn heartbeat(api: &Api, req: &Request, node: &NodeItem) -> Result<Response<Body>, ApiError> {
    let beat: Heartbeat = json_body(req)?;
    let now = api.now();
    // A clock ahead of ours does not make the cluster look busy in the future.
    let report = AgentReport {
        at: now,
        active_sessions: beat.active_sessions,
        last_activity_at: beat.last_activity_at.map(|t| t.min(now)),
    };
    api.store.record_node_heartbeat(node, &report).await?;
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    Ok(response)
}
