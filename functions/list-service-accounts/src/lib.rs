//! `GET /v1/organizations/{org_id}/service-accounts`: the organization's service accounts with
//! their keys (ids, scopes, expiry, last use; never a key). The owner and admins.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::contract::ServiceAccounts;
use orgs::domain::api_keys::{MAX_KEYS, MAX_SERVICE_ACCOUNTS, Scopes};
use orgs::domain::authz::{self, Action};
use orgs::http::{ApiError, json, org_param, respond};

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, list(api, &req).await))
}

async fn list(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = api.authenticate(req).await?;
    let org = org_param(req)?;
    let (organization, membership) = api.membership_in(&org, &caller).await?;
    authz::may(&membership, &organization.settings, Action::ManageServiceAccounts)?;
    let service_accounts = api.store.service_accounts(&org, api.now()).await?;
    json(
        StatusCode::OK,
        &ServiceAccounts {
            service_accounts,
            max_service_accounts: MAX_SERVICE_ACCOUNTS,
            max_keys: MAX_KEYS,
            scopes: Scopes::all_names(),
        },
    )
}
