//! `GET /v1/organizations/{org_id}/usage?from=&to=`: hours, instance-hours and credits per
//! cluster, per member (who started it) and in total, each interval clipped to the window; a
//! running cluster counts up to now. Every member may read it. `from` and `to` are RFC 3339
//! times (default: the 30 days up to now); `Accept: text/csv` gives the same lines as CSV.

use lambda_http::http::StatusCode;
use lambda_http::http::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use lambda_http::{Body, Error, Request, Response};
use orgs::Api;
use orgs::domain::authz::{self, Action};
use orgs::domain::{DomainError, Timestamp, UsageReport, Window};
use orgs::http::{ApiError, json, org_param, query_param, respond};

/// The window when none is asked for.
const DEFAULT_DAYS: i64 = 30;

pub async fn handle(api: &Api, req: Request) -> Result<Response<Body>, Error> {
    Ok(respond(&req, usage(api, &req).await))
}

async fn usage(api: &Api, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = api.principal(req).await?;
    let org = org_param(req)?;
    let now = api.now();
    let to = time_param(req, "to")?.unwrap_or(now);
    let from = time_param(req, "from")?.unwrap_or_else(|| to.plus(time::Duration::days(-DEFAULT_DAYS)));
    let window = Window::new(from, to)?;
    let csv = wants_csv(req);
    let (organization, membership) = api.acting_in(&org, &caller).await?;
    authz::may(&membership, &organization.settings, Action::Read)?;
    let report = UsageReport::build(window, &api.store.usage(&org, &window, now).await?);
    if !csv {
        return json(StatusCode::OK, &report);
    }
    let mut response = Response::new(Body::from(report.to_csv()));
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    Ok(response)
}

fn time_param(req: &Request, name: &str) -> Result<Option<Timestamp>, ApiError> {
    query_param(req, name)
        .map(|raw| {
            Timestamp::try_from(raw.clone()).map_err(|_| {
                DomainError::Invalid(format!(
                    "'{name}' must be an RFC 3339 time such as 2026-11-01T00:00:00Z, not '{raw}'"
                ))
                .into()
            })
        })
        .transpose()
}

/// Whether the client prefers CSV: `text/csv` is named in `Accept` (JSON otherwise).
fn wants_csv(req: &Request) -> bool {
    req.headers()
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|kind| kind.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("text/csv")))
}
