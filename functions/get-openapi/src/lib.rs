//! `GET /v1/openapi.json`: the API's OpenAPI 3.1 document, without a token (it says nothing about
//! anyone's data). Built from the wire types at init, so it always matches the deployed code.

use lambda_http::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Error, Request, Response};

/// The document's JSON text.
pub struct Document(&'static str);

impl Document {
    pub fn build() -> Result<Self, serde_json::Error> {
        orgs::contract::openapi::json().map(Self)
    }
}

pub async fn handle(document: &Document, _req: Request) -> Result<Response<Body>, Error> {
    let mut response = Response::new(Body::from(document.0));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    Ok(response)
}
