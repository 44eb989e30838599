//! The cluster agent's API. Clusters sit in customers' networks and call out; each authenticates
//! with its own agent token (`Authorization: Bearer ocat_...`, shown once at creation, stored as a
//! hash, rotatable by the owner or an admin). Any other token, another cluster's included, is a
//! 401 that says nothing about the cluster. These routes have no JWT authorizer.
//!
//! - `GET /v1/agent/clusters/{cluster_id}/users?after={revision}&limit=`: the account changes
//!   after that revision, in revision order (at most `limit`, 1 to 500, default 100); ask again
//!   after the answer's `revision` until it reaches `latest_revision`.
//! - `POST /v1/agent/clusters/{cluster_id}/users/ack` `{"revision", "results": [{"user_id",
//!   "status": "applied"|"failed", "error"}]}`: what the cluster applied, up to that revision; a
//!   record that changed since stays pending (counted as `stale`).
//! - `POST /v1/agent/clusters/{cluster_id}/heartbeat` `{"active_sessions", "last_activity_at"}`:
//!   204; what idle stop reads.

use lambda_http::http::{Method, StatusCode, header::AUTHORIZATION};
use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::contract::{Ack, Heartbeat};
use orgs::domain::cluster_users::matches;
use orgs::domain::{AgentReport, DomainError};
use orgs::http::{ApiError, cluster_param, json, json_body, query_param, respond};
use orgs::store::AgentItem;

/// Most results one acknowledgement carries.
const MAX_RESULTS: usize = 500;

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, serve(api, &req).await))
}

async fn serve(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let agent = authenticate(api, req).await?;
    let path = req.uri().path().trim_end_matches('/');
    match (req.method(), path.rsplit('/').next().unwrap_or("")) {
        (&Method::GET, "users") => pull(api, req, &agent).await,
        (&Method::POST, "ack") => ack(api, req, &agent).await,
        (&Method::POST, "heartbeat") => heartbeat(api, req, &agent).await,
        _ => Err(ApiError::not_found("no such agent route")),
    }
}

/// The cluster's agent, if the bearer token is its token.
async fn authenticate(api: &Api, req: &Request) -> Result<AgentItem, ApiError> {
    let refused = || ApiError::unauthorized("this cluster's agent token is required");
    let cluster = cluster_param(req).map_err(|_| refused())?;
    let token = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(refused)?;
    let agent = api.store.agent(&cluster).await?.ok_or_else(refused)?;
    if matches(token.trim(), &agent.token_hash) { Ok(agent) } else { Err(refused()) }
}

async fn pull(api: &Api, req: &Request, agent: &AgentItem) -> Result<Response<Body>, ApiError> {
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
    let changes = api.store.cluster_user_changes(&agent.cluster_id, after, limit as usize).await?;
    json(StatusCode::OK, &changes)
}

async fn ack(api: &Api, req: &Request, agent: &AgentItem) -> Result<Response<Body>, ApiError> {
    let ack: Ack = json_body(req)?;
    if ack.results.len() > MAX_RESULTS {
        return Err(DomainError::Invalid(format!("at most {MAX_RESULTS} results per acknowledgement")).into());
    }
    let done =
        api.store.acknowledge_cluster_users(&agent.cluster_id, ack.revision, &ack.results, api.now()).await?;
    json(StatusCode::OK, &done)
}

async fn heartbeat(api: &Api, req: &Request, agent: &AgentItem) -> Result<Response<Body>, ApiError> {
    let beat: Heartbeat = json_body(req)?;
    let now = api.now();
    // A clock ahead of ours does not make the cluster look busy in the future.
    let report = AgentReport {
        at: now,
        active_sessions: beat.active_sessions,
        last_activity_at: beat.last_activity_at.map(|t| t.min(now)),
    };
    api.store.record_heartbeat(agent, &report).await?;
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    Ok(response)
}
