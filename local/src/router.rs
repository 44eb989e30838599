//! The local API Gateway: turns each HTTP request into the payload-v2 event API Gateway would send
//! (route key, path parameters, headers, base64 for binary bodies) and calls that route's function
//! through its own `handle`. No function has a local-only path.

use std::sync::Arc;

use axum::body::{Body as AxumBody, to_bytes};
use axum::extract::{Request as AxumRequest, State};
use axum::response::{IntoResponse, Response as AxumResponse};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::StatusCode;
use lambda_http::{Body, RequestExt};
use orgs::Api;
use orgs::routes::{Resolution, resolve};
use serde_json::{Map, Value, json};

/// API Gateway HTTP APIs refuse payloads over 10 MB themselves.
const GATEWAY_MAX_BODY: usize = 10 * 1024 * 1024;

/// What the functions behind the router hold: the API's dependencies and the cloud's.
#[derive(Clone)]
pub struct Functions {
    pub api: Arc<Api>,
    pub cloud: Arc<dyn orgs::cloud::Cloud>,
    pub service: Arc<orgs::domain::ServiceIdentity>,
    pub openapi: Arc<get_openapi::Document>,
    /// The one origin CORS allows (the dashboard's), as the template's `CorsConfiguration` does.
    pub cors_origin: String,
}

/// What the template's `CorsConfiguration` allows (a test holds the two together).
pub const CORS_ALLOW_METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];
pub const CORS_ALLOW_HEADERS: &[&str] = &["authorization", "content-type", "if-match"];
pub const CORS_MAX_AGE: u32 = 600;

pub fn router(functions: Functions) -> axum::Router {
    axum::Router::new().fallback(dispatch).with_state(functions)
}

/// API Gateway's CORS, in front of the functions: it answers preflights itself and adds the
/// allowed origin to every answer to that origin.
async fn dispatch(State(functions): State<Functions>, request: AxumRequest) -> AxumResponse {
    let origin = request.headers().get(http::header::ORIGIN).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let allowed = origin.as_deref() == Some(functions.cors_origin.as_str());
    let preflight = request.method() == http::Method::OPTIONS
        && request.headers().contains_key(http::header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        let mut response = StatusCode::NO_CONTENT.into_response();
        let asked = request
            .headers()
            .get(http::header::ACCESS_CONTROL_REQUEST_METHOD)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if allowed && CORS_ALLOW_METHODS.contains(&asked) {
            let headers = response.headers_mut();
            let set = |headers: &mut http::HeaderMap, name, value: String| {
                if let Ok(v) = http::HeaderValue::from_str(&value) {
                    headers.insert(name, v);
                }
            };
            set(headers, http::header::ACCESS_CONTROL_ALLOW_ORIGIN, functions.cors_origin.clone());
            set(headers, http::header::ACCESS_CONTROL_ALLOW_METHODS, CORS_ALLOW_METHODS.join(","));
            set(headers, http::header::ACCESS_CONTROL_ALLOW_HEADERS, CORS_ALLOW_HEADERS.join(","));
            set(headers, http::header::ACCESS_CONTROL_MAX_AGE, CORS_MAX_AGE.to_string());
        }
        return response;
    }
    let mut response = call_function(functions.clone(), request).await;
    if allowed && let Ok(v) = http::HeaderValue::from_str(&functions.cors_origin) {
        response.headers_mut().insert(http::header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        response.headers_mut().insert(http::header::VARY, http::HeaderValue::from_static("origin"));
    }
    response
}

async fn call_function(functions: Functions, request: AxumRequest) -> AxumResponse {
    let (parts, body) = request.into_parts();
    let Ok(body) = to_bytes(body, GATEWAY_MAX_BODY).await else {
        return gateway_error(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large");
    };
    let request_id = uuid::Uuid::new_v4().to_string();
    let path = parts.uri.path().to_owned();
    let (function, route_key, params) = match resolve(parts.method.as_str(), &path) {
        Resolution::Found { route, params } => {
            (route.function, format!("{} {}", route.method, route.path), params)
        }
        _ => (orgs::routes::FALLBACK_FUNCTION, "$default".to_owned(), Vec::new()),
    };
    let event = gateway_event(&parts, &body, &route_key, &params, &request_id);
    let request = match lambda_http::request::from_str(&event.to_string()) {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the API Gateway event");
            return gateway_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
        }
    };
    let mut context = lambda_runtime::Context::default();
    context.request_id = request_id;
    let request = request.with_lambda_context(context);
    let result = invoke(&functions, function, request).await;
    match result {
        Ok(response) => {
            let (parts, body) = response.into_parts();
            let bytes = match body {
                Body::Empty => Vec::new(),
                Body::Text(t) => t.into_bytes(),
                Body::Binary(b) => b,
                _ => Vec::new(),
            };
            AxumResponse::from_parts(parts, AxumBody::from(bytes))
        }
        // What API Gateway answers when the function itself fails.
        Err(e) => {
            tracing::error!(function, error = %e, "function returned an error");
            gateway_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
        }
    }
}

/// Calls `function`'s own `handle` with `request`, as Lambda would (its AWS calls signed with its
/// own key, see `identity`). Any name no route leads to gets the fallback's answer.
pub async fn invoke(
    functions: &Functions,
    function: &'static str,
    request: lambda_http::Request,
) -> Result<lambda_http::Response<Body>, lambda_http::Error> {
    crate::identity::as_function(function, async {
        match function {
            "get-openapi" => get_openapi::handle(&functions.openapi, request).await,
            "configure-account" => {
                configure_account::handle(
                    &functions.api,
                    functions.cloud.as_ref(),
                    &functions.service,
                    request,
                )
                .await
            }
            "get-cloud-account" => {
                get_cloud_account::handle(&functions.api, &functions.service, request).await
            }
            _ => dispatch_api(&functions.api, function, request).await,
        }
    })
    .await
}

// `dispatch_api`: an arm for every function crate in Cargo.toml with the API handler's signature
// (written by build.rs).
include!(concat!(env!("OUT_DIR"), "/dispatch.rs"));

fn gateway_error(status: StatusCode, message: &str) -> AxumResponse {
    (status, axum::Json(json!({ "message": message }))).into_response()
}

/// The payload-v2 event for one request.
fn gateway_event(
    parts: &http::request::Parts,
    body: &[u8],
    route_key: &str,
    params: &[(&'static str, String)],
    request_id: &str,
) -> Value {
    let mut headers = Map::new();
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match headers.get_mut(name.as_str()) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&value);
            }
            _ => {
                headers.insert(name.as_str().to_owned(), Value::String(value));
            }
        }
    }
    let query = parts.uri.query().unwrap_or("");
    let mut query_params = Map::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        query_params.insert(k.to_owned(), Value::String(v.to_owned()));
    }
    let path_params: Map<String, Value> =
        params.iter().map(|(k, v)| ((*k).to_owned(), Value::String(v.clone()))).collect();
    let now = time::OffsetDateTime::now_utc();
    let (body, is_base64) = match std::str::from_utf8(body) {
        _ if body.is_empty() => (Value::Null, false),
        Ok(text) => (Value::String(text.to_owned()), false),
        Err(_) => (Value::String(STANDARD.encode(body)), true),
    };
    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": parts.uri.path(),
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "127.0.0.1",
            "domainPrefix": "local",
            "http": {
                "method": parts.method.as_str(),
                "path": parts.uri.path(),
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": parts.headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or(""),
            },
            "requestId": request_id,
            "routeKey": route_key,
            "stage": "$default",
            "time": now.format(&time::format_description::well_known::Rfc2822).unwrap_or_default(),
            "timeEpoch": now.unix_timestamp() * 1000,
        },
        "isBase64Encoded": is_base64,
    });
    if !query_params.is_empty() {
        event["queryStringParameters"] = Value::Object(query_params);
    }
    if !path_params.is_empty() {
        event["pathParameters"] = Value::Object(path_params);
    }
    if !body.is_null() {
        event["body"] = body;
    }
    event
}
