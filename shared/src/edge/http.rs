//! The HTTP edge shared by every API function: the one table from domain errors to statuses,
//! RFC 9457 problem+json answers, and request parsing that turns every client mistake into a 4xx.

use http::StatusCode;
use http::header::{CONTENT_TYPE, HeaderValue};
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::domain::DomainError;

/// Bodies larger than this are refused before parsing.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// An answer that is not the happy path. Built from a [`DomainError`] or directly at the edge.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    /// Machine-readable kind, also the last segment of the problem `type`.
    pub code: &'static str,
    /// Safe to show: never an internal cause.
    pub detail: String,
    headers: Vec<(&'static str, HeaderValue)>,
    /// Extension members of the problem (RFC 9457 §3.2), such as a 402's `balance`.
    extensions: serde_json::Map<String, serde_json::Value>,
    /// A lost race the request may settle by reading again ([`crate::domain::DomainError::Stale`]).
    stale: bool,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            headers: Vec::new(),
            extensions: serde_json::Map::new(),
            stale: false,
        }
    }

    /// Whether the request lost a race it may settle by reading again.
    pub fn is_stale(&self) -> bool {
        self.stale
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
            .with_header("www-authenticate", r#"Bearer error="invalid_token""#)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", detail)
    }

    pub fn method_not_allowed(allowed: &[&str]) -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this method is not supported here")
            .with_header("allow", &allowed.join(", "))
    }

    pub fn with_member(mut self, name: &str, value: impl Serialize) -> Self {
        if let Ok(v) = serde_json::to_value(value) {
            self.extensions.insert(name.to_owned(), v);
        }
        self
    }

    pub fn with_header(mut self, name: &'static str, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((name, v));
        }
        self
    }

    /// The problem+json response. `request_id` lets support find the log line of a 5xx.
    pub fn into_response(self, request_id: Option<&str>) -> Response<Body> {
        let problem = Problem {
            kind: format!("/problems/{}", self.code),
            title: self.status.canonical_reason().unwrap_or("Error"),
            status: self.status.as_u16(),
            detail: &self.detail,
            request_id,
            extensions: &self.extensions,
        };
        let mut response = Response::new(Body::from(serde_json::to_string(&problem).unwrap_or_default()));
        *response.status_mut() = self.status;
        for (name, value) in self.headers {
            response.headers_mut().insert(name, value);
        }
        response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        response
    }
}

/// An error as every function answers it: `application/problem+json` (RFC 9457). Some problems
/// carry more members (`balance` with a 402).
#[derive(Serialize, utoipa::ToSchema)]
pub struct Problem<'a> {
    /// `/problems/<code>`, the kind of problem: `invalid_request`, `not_found`, `conflict`...
    #[serde(rename = "type")]
    pub kind: String,
    /// The status's reason phrase.
    pub title: &'a str,
    pub status: u16,
    /// What was wrong, in words for the person who sent it.
    pub detail: &'a str,
    /// The request's id, to find its log line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<&'a str>,
    #[serde(flatten)]
    #[schema(ignore)]
    pub extensions: &'a serde_json::Map<String, serde_json::Value>,
}

/// What API Gateway answers with when it refuses a request itself (no token, throttled, a
/// function that crashed): not a problem.
#[derive(Serialize, utoipa::ToSchema)]
pub struct GatewayMessage {
    pub message: String,
}

/// The one table from domain meaning to HTTP status. Server-side failures are logged with their
/// whole cause chain here and reach the client as a bare 5xx.
impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Invalid(detail) => Self::bad_request(detail),
            DomainError::NotFound(what) => Self::not_found(format!("{what} not found")),
            DomainError::Forbidden(detail) => Self::new(StatusCode::FORBIDDEN, "forbidden", detail),
            DomainError::Conflict(detail) => Self::new(StatusCode::CONFLICT, "conflict", detail),
            e @ DomainError::Stale(_) => {
                Self { stale: true, ..Self::new(StatusCode::CONFLICT, "conflict", e.to_string()) }
            }
            DomainError::Gone(detail) => Self::new(StatusCode::GONE, "gone", detail),
            DomainError::Unauthorized(detail) => Self::unauthorized(detail),
            DomainError::PreconditionFailed(detail) => {
                Self::new(StatusCode::PRECONDITION_FAILED, "precondition_failed", detail)
            }
            DomainError::Unprocessable(detail) => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "cloud_refused", detail)
            }
            e @ DomainError::NoCredits { balance } => {
                Self::new(StatusCode::PAYMENT_REQUIRED, "no_credits", e.to_string())
                    .with_member("balance", balance)
            }
            e @ DomainError::CreditsShort { balance, .. } => {
                Self::new(StatusCode::PAYMENT_REQUIRED, "no_credits", e.to_string())
                    .with_member("balance", balance)
            }
            DomainError::TooMany { detail, retry_after_seconds } => {
                Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", detail)
                    .with_header("retry-after", &retry_after_seconds.max(1).to_string())
            }
            e @ DomainError::Unavailable { .. } => {
                tracing::error!(error = %crate::telemetry::chain(&e), "dependency failed");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the service is temporarily unavailable; try again",
                )
                .with_header("retry-after", "1")
            }
            e @ DomainError::Failed { .. } => {
                tracing::error!(error = %crate::telemetry::chain(&e), "dependency refused the request");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "an internal error occurred")
            }
            e @ DomainError::Corrupt(_) => {
                tracing::error!(error = %crate::telemetry::chain(&e), "invariant broken");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "an internal error occurred")
            }
        }
    }
}

/// Finishes a handler: a success as it is, a problem rendered with the request id.
pub fn respond(req: &Request, result: Result<Response<Body>, ApiError>) -> Response<Body> {
    result.unwrap_or_else(|problem| {
        let id = req.lambda_context_ref().map(|c| c.request_id.as_str()).filter(|id| !id.is_empty());
        let id = id.or_else(|| match req.request_context_ref() {
            Some(lambda_http::request::RequestContext::ApiGatewayV2(c)) => c.request_id.as_deref(),
            _ => None,
        });
        problem.into_response(id)
    })
}

/// A JSON success answer.
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Result<Response<Body>, ApiError> {
    let body = serde_json::to_string(value)
        .map_err(|e| ApiError::from(DomainError::Corrupt(format!("cannot encode response: {e}"))))?;
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(response)
}

/// Sets the answer's `ETag` to `version`, quoted (a strong tag).
pub fn set_etag(response: &mut Response<Body>, version: &str) {
    if let Ok(value) = HeaderValue::from_str(&format!("\"{version}\"")) {
        response.headers_mut().insert(lambda_http::http::header::ETAG, value);
    }
}

pub fn no_content() -> Result<Response<Body>, ApiError> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    Ok(response)
}

/// A path parameter as API Gateway extracted it from the route template.
pub fn path_param(req: &Request, name: &str) -> Result<String, ApiError> {
    req.path_parameters_ref()
        .and_then(|p| p.first(name))
        .map(str::to_owned)
        .ok_or_else(|| ApiError::not_found(format!("missing path parameter {name}")))
}

/// The organization the path's `org_id` names. A malformed id is a 404, as an unknown one is: a
/// caller learns nothing from the difference.
pub fn org_param(req: &Request) -> Result<crate::domain::OrgId, ApiError> {
    crate::domain::OrgId::parse(&path_param(req, "org_id")?)
        .map_err(|_| ApiError::from(DomainError::NotFound("organization")))
}

/// The webhook endpoint the path's `webhook_id` names; malformed is unknown (404).
pub fn webhook_param(req: &Request) -> Result<crate::domain::WebhookId, ApiError> {
    crate::domain::WebhookId::parse(&path_param(req, "webhook_id")?)
        .map_err(|_| ApiError::from(DomainError::NotFound("webhook")))
}

/// The cluster the path's `cluster_id` names; malformed is unknown (404).
pub fn cluster_param(req: &Request) -> Result<crate::domain::ClusterId, ApiError> {
    crate::domain::ClusterId::parse(&path_param(req, "cluster_id")?)
        .map_err(|_| ApiError::from(DomainError::NotFound("cluster")))
}

/// A query string parameter, if given.
pub fn query_param(req: &Request, name: &str) -> Option<String> {
    req.query_string_parameters_ref().and_then(|q| q.first(name)).map(str::to_owned)
}

/// `?limit=` and `?cursor=` of a list; both are checked by the store against the list they are for.
pub fn page_request(req: &Request) -> Result<crate::store::PageRequest, ApiError> {
    Ok(crate::store::PageRequest { limit: query_param(req, "limit"), cursor: query_param(req, "cursor") })
}

/// Parses a JSON body into `T` (which should deny unknown fields). Too large: 413; not JSON: 415;
/// malformed or not matching `T`: 400 saying where.
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    let bytes: &[u8] = req.body().as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the body may be at most {MAX_BODY_BYTES} bytes"),
        ));
    }
    let content_type = req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if bytes.is_empty() {
        return Err(ApiError::bad_request("a JSON body is required"));
    }
    if essence != "application/json" && !essence.ends_with("+json") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "the body must be application/json",
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_text(r: &Response<Body>) -> String {
        String::from_utf8_lossy(r.body().as_ref()).into_owned()
    }

    #[test]
    fn a_dependency_failure_says_nothing_internal() {
        let e = DomainError::unavailable("DynamoDB GetItem", "secret table arn:aws:dynamodb:... throttled");
        let r = ApiError::from(e).into_response(Some("req-1"));
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        let text = body_text(&r);
        assert!(!text.contains("DynamoDB") && !text.contains("arn:"), "{text}");
        assert!(text.contains("\"request_id\":\"req-1\""));
        assert_eq!(r.headers()[CONTENT_TYPE], PROBLEM_JSON);
    }

    #[test]
    fn domain_meanings_map_to_their_statuses() {
        let cases = [
            (DomainError::Invalid("x".into()), 400),
            (DomainError::NotFound("organization"), 404),
            (DomainError::Forbidden("x".into()), 403),
            (DomainError::Conflict("x".into()), 409),
            (DomainError::Stale("the member"), 409),
            (DomainError::Gone("x".into()), 410),
            (DomainError::Unauthorized("x".into()), 401),
            (DomainError::PreconditionFailed("x".into()), 412),
            (DomainError::TooMany { detail: "x".into(), retry_after_seconds: 60 }, 429),
            (DomainError::Unprocessable("x".into()), 422),
            (DomainError::Corrupt("x".into()), 500),
            (DomainError::failed("DynamoDB GetItem", "AccessDeniedException"), 500),
            (DomainError::unavailable("DynamoDB GetItem", "ThrottlingException"), 503),
        ];
        for (e, status) in cases {
            assert_eq!(ApiError::from(e).status.as_u16(), status);
        }
    }

    #[test]
    fn a_problem_names_its_type_title_and_status() -> Result<(), serde_json::Error> {
        let r = ApiError::from(DomainError::Conflict("bob@example.com is already a member".into()))
            .into_response(None);
        let v: serde_json::Value = serde_json::from_str(&body_text(&r))?;
        assert_eq!(v["type"], "/problems/conflict");
        assert_eq!(v["title"], "Conflict");
        assert_eq!(v["status"], 409);
        assert_eq!(v["detail"], "bob@example.com is already a member");
        Ok(())
    }
}
