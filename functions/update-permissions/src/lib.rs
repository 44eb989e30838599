//! `PUT /v1/organizations/{org_id}/permissions`: the owner and admins replace the organization's
//! permissions and settings document (`members_can_invite`, `members_can_manage_clusters`,
//! `members_can_open_ports`, `invitation_ttl_days`, and `api_key_max_days`, which a document
//! without it leaves as it is: clients written before it existed do not reset it). It takes effect
//! on the very next request;
//! the audit log records what changed. With `If-Match` (the version `GET` showed), a change made
//! meanwhile answers 412 instead of being reverted; without it, the write still never reverts a
//! change it did not read (it reads again and decides again). The answer's `ETag` is the new
//! version.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::domain::authz::{self, Action};
use orgs::domain::{DomainError, Settings};
use orgs::http::{ApiError, json, json_body, org_param, respond};

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, update(api, &req).await))
}

async fn update(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = api.authenticate(req).await?;
    let org = org_param(req)?;
    let asked: Settings = json_body(req)?;
    // Whether the document names the key lifetime (it parsed, so the body is a JSON object).
    let names_key_days = serde_json::from_slice::<serde_json::Value>(req.body().as_ref())
        .ok()
        .is_some_and(|body| body.get("api_key_max_days").is_some());
    let if_match = match req.headers().get(lambda_http::http::header::IF_MATCH) {
        None => None,
        Some(value) => Some(value.to_str().map_err(|_| ApiError::bad_request("If-Match is not text"))?),
    };
    let attempt = || async {
        let (organization, actor) = api.membership_in(&org, &caller).await?;
        let settings = if names_key_days {
            asked
        } else {
            Settings { api_key_max_days: organization.settings.api_key_max_days, ..asked }
        };
        let grant = authz::may(&actor, &organization.settings, Action::UpdateSettings)?;
        if let Some(tag) = if_match
            && !organization.settings.matches(tag)
        {
            return Err(changed_meanwhile());
        }
        if settings != organization.settings {
            let written =
                api.store.update_settings(&actor, &grant, &organization.settings, &settings, api.now());
            match written.await {
                // What the caller saw is no longer there: theirs to decide again, not ours.
                Err(DomainError::Stale(_)) if if_match.is_some() => return Err(changed_meanwhile()),
                other => other?,
            }
        }
        Ok(settings)
    };
    let settings = orgs::app::reading_again(attempt).await?;
    let mut response = json(StatusCode::OK, &settings)?;
    orgs::http::set_etag(&mut response, &settings.version());
    Ok(response)
}

fn changed_meanwhile() -> ApiError {
    DomainError::PreconditionFailed(
        "the permissions changed since you read them (If-Match): read them again and redo your change".into(),
    )
    .into()
}
