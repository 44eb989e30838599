//! `GET /v1/organizations/{org_id}/cloud-account`: every member reads the organization's cloud
//! account: the external id and the trust policy to paste into the role (made on first read and
//! never changed), and the configuration once the owner or an admin has connected one.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::contract::CloudAccountPage;
use orgs::domain::authz::{self, Action};
use orgs::domain::{ServiceIdentity, trust_policy};
use orgs::http::{ApiError, json, org_param, respond};

pub async fn handle(api: &Api, service: &ServiceIdentity, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, read(api, service, &req).await))
}

async fn read(api: &Api, service: &ServiceIdentity, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = api.principal(req).await?;
    let org = org_param(req)?;
    let view = api.store.cloud_account_view(&org, api.reader(&caller)).await?;
    api.used(&view.membership).await?;
    authz::may(&view.membership, &view.organization.settings, Action::Read)?;
    let external_id = match view.external_id {
        Some(id) => id,
        None => api.store.ensure_external_id(&org).await?,
    };
    let policy = trust_policy(service, &external_id);
    json(StatusCode::OK, &CloudAccountPage { external_id, trust_policy: policy, account: view.account })
}
