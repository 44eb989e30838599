//! `POST /v1/me/ssh-keys` `{"public_key": "ssh-ed25519 AAAA... me@laptop"}`: adds a key to the
//! caller's accounts on every managed cluster of every organization they belong to (through the
//! stream, as a new revision of each record). 201 with the key; 400 for anything but one Ed25519,
//! ECDSA or RSA (at least 3072 bits) public key; 409 for a key already added or past 10.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::contract::NewSshKey;
use orgs::domain::SshKey;
use orgs::http::{ApiError, json, json_body, respond};

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, add(api, &req).await))
}

async fn add(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = api.authenticate(req).await?;
    let body: NewSshKey = json_body(req)?;
    let key = SshKey::parse(&body.public_key, api.now())?;
    api.store.add_ssh_key(&caller.user_id, &key).await?;
    json(StatusCode::CREATED, &key)
}
