//! `GET /v1/me/ssh-keys`: the caller's SSH public keys, oldest first, with their fingerprints.

use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::contract::SshKeys;
use orgs::domain::MAX_SSH_KEYS;
use orgs::http::{ApiError, json, respond};

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, list(api, &req).await))
}

async fn list(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = api.authenticate(req).await?;
    let (keys, _) = api.store.ssh_keys(&caller.user_id).await?;
    json(lambda_http::http::StatusCode::OK, &SshKeys { keys, max_keys: MAX_SSH_KEYS })
}
