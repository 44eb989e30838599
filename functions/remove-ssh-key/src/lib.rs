//! `DELETE /v1/me/ssh-keys/{key_id}`: removes one of the caller's keys from their accounts on
//! every managed cluster (through the stream). 204; 404 for a key they do not have.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::domain::ssh_keys::check_key_id;
use orgs::http::{ApiError, path_param, respond};

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, remove(api, &req).await))
}

async fn remove(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = api.authenticate(req).await?;
    let key_id = path_param(req, "key_id")?;
    check_key_id(&key_id)?;
    api.store.remove_ssh_key(&caller.user_id, &key_id).await?;
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    Ok(response)
}
