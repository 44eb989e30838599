//! `DELETE /v1/organizations/{org_id}/service-accounts/{service_account_id}/keys/{api_key_id}`:
//! the key stops working at once (its next request is a 401; a write it has in flight is refused
//! by its condition). The owner and admins. In the audit log.

use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::domain::api_keys::KeyId;
use orgs::domain::authz::{self, Action};
use orgs::domain::{DomainError, ServiceAccountId};
use orgs::http::{ApiError, no_content, org_param, path_param, respond};

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, revoke(api, &req).await))
}

async fn revoke(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = api.authenticate(req).await?;
    let org = org_param(req)?;
    let id = ServiceAccountId::parse(&path_param(req, "service_account_id")?)
        .map_err(|_| DomainError::NotFound("service account"))?;
    let key_id = KeyId::parse(&path_param(req, "api_key_id")?).map_err(|_| DomainError::NotFound("key"))?;
    let (organization, membership) = api.membership_in(&org, &caller).await?;
    let grant = authz::may(&membership, &organization.settings, Action::ManageServiceAccounts)?;
    api.store.revoke_api_key(&membership, &grant, &id, &key_id, api.now()).await?;
    no_content()
}
