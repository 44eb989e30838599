//! A stand-in for Cognito's hosted UI on the local stack (under `/local-cognito` of the
//! dashboard's origin), so that the dashboard's production sign-in — authorization code with PKCE
//! (RFC 7636, S256) — runs end to end in the browser tests. It does what the hosted UI's two
//! endpoints do for a public client: `/oauth2/authorize` shows a sign-in form and returns to the
//! redirect URI with a one-time code and the caller's `state`; `/oauth2/token` trades the code for
//! an ID token and a refresh token only with the verifier whose challenge the authorization
//! carried, for the same client and redirect URI, once, and a refresh token (`grant_type=
//! refresh_token`, same client) for a fresh ID token. Email only, no password: it signs in like
//! the dev issuer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::StatusCode;
use orgs::domain::Email;
use serde::Deserialize;
use serde_json::json;
use sha2::Digest;

/// What signing in needs: registration and a token for an address.
pub type SignIn =
    Arc<dyn Fn(Email) -> futures::future::BoxFuture<'static, Result<String, String>> + Send + Sync>;

#[derive(Clone)]
struct HostedUi {
    client_id: String,
    sign_in: SignIn,
    /// Outstanding codes: one use each.
    codes: Arc<Mutex<HashMap<String, Grant>>>,
    /// Refresh tokens issued, and whose they are.
    refresh: Arc<Mutex<HashMap<String, Email>>>,
}

struct Grant {
    challenge: String,
    redirect_uri: String,
    token: String,
    email: Email,
}

/// The hosted UI's routes for `client_id`, to nest under `/local-cognito`.
pub fn routes<S: Clone + Send + Sync + 'static>(client_id: &str, sign_in: SignIn) -> axum::Router<S> {
    let state = HostedUi {
        client_id: client_id.to_owned(),
        sign_in,
        codes: Arc::new(Mutex::new(HashMap::new())),
        refresh: Arc::new(Mutex::new(HashMap::new())),
    };
    axum::Router::new()
        .route("/oauth2/authorize", get(authorize))
        .route("/login", post(login))
        .route("/oauth2/token", post(token))
        .with_state(state)
}

#[derive(Deserialize)]
struct Authorize {
    response_type: String,
    client_id: String,
    redirect_uri: String,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    state: Option<String>,
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (status, axum::Json(json!({ "error": error, "error_description": description }))).into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}

async fn authorize(State(ui): State<HostedUi>, Query(q): Query<Authorize>) -> Response {
    if q.response_type != "code" || q.client_id != ui.client_id {
        return oauth_error(StatusCode::BAD_REQUEST, "unauthorized_client", "code flow for this client only");
    }
    let (Some(challenge), Some("S256")) = (q.code_challenge.as_deref(), q.code_challenge_method.as_deref())
    else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "a public client must send an S256 code_challenge",
        );
    };
    let hidden =
        |name: &str, value: &str| format!(r#"<input type="hidden" name="{name}" value="{}">"#, escape(value));
    Html(format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head>
<body><main><h1>Sign in</h1><form method="post" action="/local-cognito/login">
<label for="username">Email address</label> <input id="username" name="username" type="email" required>
{}{}{}{}<button type="submit">Sign in</button></form></main></body></html>"#,
        hidden("redirect_uri", &q.redirect_uri),
        hidden("code_challenge", challenge),
        hidden("state", q.state.as_deref().unwrap_or("")),
        hidden("client_id", &q.client_id),
    ))
    .into_response()
}

#[derive(Deserialize)]
struct Login {
    username: String,
    redirect_uri: String,
    code_challenge: String,
    state: String,
}

async fn login(State(ui): State<HostedUi>, axum::Form(form): axum::Form<Login>) -> Response {
    let Ok(mut back) = reqwest::Url::parse(&form.redirect_uri) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "redirect_uri is not a URL");
    };
    let email = match Email::parse(&form.username) {
        Ok(e) => e,
        Err(e) => {
            return (StatusCode::BAD_REQUEST, Html(format!("<p>{}</p>", escape(&e.to_string()))))
                .into_response();
        }
    };
    let token = match (ui.sign_in)(email.clone()).await {
        Ok(token) => token,
        Err(e) => return oauth_error(StatusCode::SERVICE_UNAVAILABLE, "server_error", &e),
    };
    let code = uuid::Uuid::new_v4().simple().to_string();
    if let Ok(mut codes) = ui.codes.lock() {
        codes.insert(
            code.clone(),
            Grant { challenge: form.code_challenge, redirect_uri: form.redirect_uri.clone(), token, email },
        );
    }
    back.query_pairs_mut().append_pair("code", &code).append_pair("state", &form.state);
    Redirect::to(back.as_str()).into_response()
}

#[derive(Deserialize)]
struct TokenRequest {
    grant_type: String,
    client_id: String,
    redirect_uri: Option<String>,
    code: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
}

async fn token(State(ui): State<HostedUi>, axum::Form(form): axum::Form<TokenRequest>) -> Response {
    if form.client_id != ui.client_id {
        return oauth_error(StatusCode::BAD_REQUEST, "unauthorized_client", "this client only");
    }
    match form.grant_type.as_str() {
        "authorization_code" => code_grant(&ui, &form),
        "refresh_token" => refresh_grant(&ui, &form).await,
        _ => oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "code or refresh_token"),
    }
}

fn code_grant(ui: &HostedUi, form: &TokenRequest) -> Response {
    // One use: the code is gone whatever happens next.
    let code = form.code.as_deref().unwrap_or_default();
    let Some(grant) = ui.codes.lock().ok().and_then(|mut codes| codes.remove(code)) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "unknown or used code");
    };
    let verifier = form.code_verifier.as_deref().unwrap_or_default();
    let challenge = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
    if challenge != grant.challenge || form.redirect_uri.as_deref() != Some(grant.redirect_uri.as_str()) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the verifier or redirect URI does not match",
        );
    }
    let refresh_token = uuid::Uuid::new_v4().simple().to_string();
    if let Ok(mut issued) = ui.refresh.lock() {
        issued.insert(refresh_token.clone(), grant.email);
    }
    axum::Json(json!({
        "id_token": grant.token,
        "refresh_token": refresh_token,
        "token_type": "Bearer",
        "expires_in": 3600,
    }))
    .into_response()
}

/// As Cognito: a fresh ID token for the refresh token's user, and no new refresh token.
async fn refresh_grant(ui: &HostedUi, form: &TokenRequest) -> Response {
    let refresh = form.refresh_token.as_deref().unwrap_or_default();
    let Some(email) = ui.refresh.lock().ok().and_then(|issued| issued.get(refresh).cloned()) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "unknown refresh token");
    };
    match (ui.sign_in)(email).await {
        Ok(token) => axum::Json(json!({ "id_token": token, "token_type": "Bearer", "expires_in": 3600 }))
            .into_response(),
        Err(e) => oauth_error(StatusCode::SERVICE_UNAVAILABLE, "server_error", &e),
    }
}
