//! The dashboard on the local stack: the built static files of `web/` (`web/dist`), the
//! `config.json` they read, and the dev issuer's sign-in by email, all on one origin (the one the
//! API's CORS allows). In AWS the files come from CloudFront and sign-in from Cognito's hosted UI;
//! nothing here is deployed.
//!
//! Cognito's hosted UI has a stand-in at `/local-cognito` ([`crate::hosted_ui`]), so that the
//! dashboard's production sign-in (code flow with PKCE) can be tested too.
//!
//! With `controls`, the browser tests may also move the stack's clock (`POST /dev/clock`), so that
//! a cluster has run for hours without waiting for them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::StatusCode;
use orgs::clock::{Clock, ShiftedClock};
use orgs::domain::Email;
use orgs::store::Store;
use register_user::Registrar;
use serde::Deserialize;
use serde_json::json;
use tokio::task::JoinHandle;

use crate::{Issuer, Stack};

/// How long a dev sign-in lasts: a working day, so that a test may move the clock by hours.
const DEV_SESSION: time::Duration = time::Duration::hours(8);

#[derive(Clone)]
struct Dashboard {
    dir: PathBuf,
    config: serde_json::Value,
    store: Store,
    registrar: Arc<Registrar>,
    issuer: Issuer,
    clock: Arc<ShiftedClock>,
    controls: bool,
}

/// `web/dist`, where `npm run build` writes the dashboard.
pub fn default_dir() -> PathBuf {
    crate::emulator::workspace_root().join("web/dist")
}

/// Serves the dashboard from `dir` on `listener` for `stack`. The stack's `dashboard_url` must be
/// this listener's origin, or the browser's calls to the API fail CORS, as they would in AWS.
pub fn serve(
    listener: tokio::net::TcpListener,
    stack: &Stack,
    dir: &Path,
    controls: bool,
) -> Result<JoinHandle<()>, Box<dyn std::error::Error + Send + Sync>> {
    if !dir.join("index.html").exists() {
        return Err(format!(
            "{} has no index.html: build the dashboard first (`cd web && npm ci && npm run build`)",
            dir.display()
        )
        .into());
    }
    let state = Dashboard {
        dir: dir.to_owned(),
        config: json!({ "api_url": stack.api_url, "auth": { "mode": "dev", "sign_in": "/dev/sign-in" } }),
        store: stack.api.store.clone(),
        registrar: stack.registrar.clone(),
        issuer: stack.issuer.clone(),
        clock: stack.clock.clone(),
        controls,
    };
    let signer = state.clone();
    let hosted_sign_in: crate::hosted_ui::SignIn = Arc::new(move |email| {
        let d = signer.clone();
        Box::pin(async move { issue(&d, &email).await })
    });
    let app = axum::Router::new()
        .nest("/local-cognito", crate::hosted_ui::routes(crate::LOCAL_CLIENT_ID, hosted_sign_in))
        .route("/config.json", get(|State(d): State<Dashboard>| async move { axum::Json(d.config) }))
        .route("/dev/sign-in", post(sign_in))
        .route("/dev/clock", post(move_clock))
        .fallback(file)
        .with_state(state);
    Ok(tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    }))
}

#[derive(Deserialize)]
struct SignIn {
    email: String,
}

fn problem(status: StatusCode, detail: &str) -> Response {
    let body = json!({ "type": "about:blank", "title": status.canonical_reason(), "status": status.as_u16(), "detail": detail });
    (status, [(http::header::CONTENT_TYPE, "application/problem+json")], body.to_string()).into_response()
}

/// What Cognito's sign-up and sign-in do for a dev user: registers the address (through
/// `register-user`, as the PostConfirmation trigger would) if new, and issues an ID token.
async fn sign_in(State(d): State<Dashboard>, body: axum::body::Bytes) -> Response {
    let Ok(SignIn { email }) = serde_json::from_slice::<SignIn>(&body) else {
        return problem(StatusCode::BAD_REQUEST, "send {\"email\": \"you@example.com\"}");
    };
    let email = match Email::parse(&email) {
        Ok(e) => e,
        Err(e) => return problem(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    match issue(&d, &email).await {
        Ok(token) => axum::Json(json!({ "token": token, "email": email })).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "dev sign-in failed");
            problem(StatusCode::SERVICE_UNAVAILABLE, "the local stack could not sign you in")
        }
    }
}

/// Registers `email` if new and signs an ID token for it, valid for a dev session by the stack's
/// clock.
async fn issue(d: &Dashboard, email: &Email) -> Result<String, String> {
    let user = crate::events::sign_up(&d.store, &d.registrar, email).await.map_err(|e| e.to_string())?;
    let mut claims = d.issuer.claims(user.user_id.as_str(), user.email.as_str());
    let now = d.clock.now().unix_timestamp();
    (claims.iat, claims.exp) = (now, now + DEV_SESSION.whole_seconds());
    Ok(d.issuer.current_key().sign(&claims))
}

#[derive(Deserialize)]
struct MoveClock {
    advance_seconds: i64,
}

async fn move_clock(State(d): State<Dashboard>, body: axum::body::Bytes) -> Response {
    if !d.controls {
        return problem(StatusCode::NOT_FOUND, "the clock is moved only by the browser tests' stack");
    }
    let Ok(MoveClock { advance_seconds }) = serde_json::from_slice(&body) else {
        return problem(StatusCode::BAD_REQUEST, "send {\"advance_seconds\": N}");
    };
    d.clock.advance(time::Duration::seconds(advance_seconds));
    axum::Json(json!({ "now": d.clock.now().unix_timestamp() })).into_response()
}

/// A file of the build, or `index.html` for any other path (the app routes by its hash).
async fn file(State(d): State<Dashboard>, request: Request) -> Response {
    let path = request.uri().path().trim_start_matches('/');
    let safe = !path.split('/').any(|part| part == ".." || part.starts_with('.'));
    let candidate = d.dir.join(path);
    let target =
        if safe && !path.is_empty() && candidate.is_file() { candidate } else { d.dir.join("index.html") };
    let kind = match target.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    };
    match tokio::fs::read(&target).await {
        Ok(bytes) => ([(http::header::CONTENT_TYPE, kind), (http::header::CACHE_CONTROL, "no-cache")], bytes)
            .into_response(),
        Err(_) => problem(StatusCode::NOT_FOUND, "no such file"),
    }
}
