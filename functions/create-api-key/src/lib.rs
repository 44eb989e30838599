//! `POST /v1/organizations/{org_id}/service-accounts/{service_account_id}/keys`: a key with
//! scopes (keyable actions of the authorization table) and an expiry (at most the organization's
//! `api_key_max_days`). The key is in this answer and nowhere else: only its SHA-256 is stored.
//! At most 5 per account, held by a condition. The owner and admins. In the audit log.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::contract::{CreatedApiKey, NewApiKey};
use orgs::domain::api_keys::Scopes;
use orgs::domain::authz::{self, Action};
use orgs::domain::{DomainError, ServiceAccountId};
use orgs::http::{ApiError, json, json_body, org_param, path_param, respond};

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, create(api, &req).await))
}

async fn create(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = api.authenticate(req).await?;
    let org = org_param(req)?;
    let id = ServiceAccountId::parse(&path_param(req, "service_account_id")?)
        .map_err(|_| DomainError::NotFound("service account"))?;
    let body: NewApiKey = json_body(req)?;
    let scopes = Scopes::parse(&body.scopes)?;
    let (organization, membership) = api.membership_in(&org, &caller).await?;
    let grant = authz::may(&membership, &organization.settings, Action::ManageServiceAccounts)?;
    let most = organization.settings.api_key_max_days;
    let lifetime = body.expires_in_days.unwrap_or(most);
    if lifetime > most {
        return Err(DomainError::Invalid(format!(
            "this organization's keys last at most {} days, not {}",
            u32::from(most),
            u32::from(lifetime)
        ))
        .into());
    }
    let (key, info) =
        api.store.create_api_key(&membership, &grant, &id, &scopes, lifetime, api.now()).await?;
    tracing::info!(org_id = %org, service_account_id = %id, key_id = %info.key_id, "an API key was made");
    json(StatusCode::CREATED, &CreatedApiKey { key: key.as_str().to_owned(), service_account_id: id, info })
}
