//! API Gateway's `$default` route: every request no other route matched. Answers problem+json
//! 404, or 405 with `Allow` when the path exists with other methods, so that even a wrong URL
//! gets the API's error format.

use lambda_http::{Body, Error, Request, Response};
use orgs::http::ApiError;
use orgs::routes::{Resolution, resolve};

pub async fn handle(req: Request) -> Result<Response<Body>, Error> {
    let problem = match resolve(req.method().as_str(), req.uri().path()) {
        Resolution::MethodNotAllowed { allowed } => ApiError::method_not_allowed(&allowed),
        _ => ApiError::not_found(format!("no route for {} {}", req.method(), req.uri().path())),
    };
    Ok(orgs::http::respond(&req, Err(problem)))
}
