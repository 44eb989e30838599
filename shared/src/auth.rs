//! Bearer JWT to [`Caller`]: RS256 only, verified against the issuer's JWKS, which is fetched on
//! first use (never during init), cached, and refetched when a token names an unknown `kid` (at
//! most once per `jwks_min_refresh`, so forged kids cannot turn into a flood of fetches).
//!
//! The token says who the caller is, nothing more: what they may do is read from DynamoDB.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;
use tokio::sync::{Mutex, RwLock};

use crate::config::AuthConfig;
use crate::domain::{DomainError, Email, UserId};
use crate::http::ApiError;

/// Who is calling, as the verified token says.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    pub user_id: UserId,
    /// Present only when the token carries an email the identity provider verified.
    pub verified_email: Option<Email>,
}

#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
    /// ID tokens name the app client here.
    #[serde(default)]
    aud: Option<Audience>,
    /// Access tokens name it here.
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    token_use: Option<String>,
    #[serde(default)]
    email: Option<String>,
    /// Cognito sends a boolean; some issuers send the string "true".
    #[serde(default)]
    email_verified: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Claims {
    fn issued_to(&self, client_id: &str) -> bool {
        let aud = match &self.aud {
            Some(Audience::One(a)) => a == client_id,
            Some(Audience::Many(all)) => all.iter().any(|a| a == client_id),
            None => false,
        };
        aud || self.client_id.as_deref() == Some(client_id)
    }

    fn email_is_verified(&self) -> bool {
        matches!(&self.email_verified, Some(serde_json::Value::Bool(true)))
            || matches!(&self.email_verified, Some(serde_json::Value::String(s)) if s == "true")
    }
}

/// The JWKS client: the hyper and rustls stack the AWS SDK already links, so no second HTTP
/// client is compiled in.
type HttpClient = Client<HttpsConnector<HttpConnector>, Empty<bytes::Bytes>>;

/// A JWKS document larger than this is refused.
const MAX_JWKS_BYTES: usize = 256 * 1024;
const JWKS_TIMEOUT: Duration = Duration::from_secs(5);

/// Verifies bearer tokens. One per cold start; the JWKS cache lives as long as it does.
pub struct Verifier {
    config: AuthConfig,
    /// Built on first use: loading the root certificates is no work for init.
    http: OnceLock<Result<HttpClient, String>>,
    keys: RwLock<Option<Arc<JwkSet>>>,
    /// Serializes refetches and remembers when the last one happened.
    last_fetch: Mutex<Option<Instant>>,
}

impl Verifier {
    pub fn new(config: AuthConfig) -> Self {
        Self { config, http: OnceLock::new(), keys: RwLock::new(None), last_fetch: Mutex::new(None) }
    }

    /// The caller named by `Authorization: Bearer <jwt>`, or 401 (503 when the JWKS cannot be had).
    pub async fn verify(&self, authorization: Option<&str>) -> Result<Caller, ApiError> {
        let token = authorization
            .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::unauthorized("a bearer token is required"))?;
        let header = decode_header(token).map_err(|_| ApiError::unauthorized("the token is malformed"))?;
        if header.alg != Algorithm::RS256 {
            return Err(ApiError::unauthorized("the token's algorithm is not accepted"));
        }
        let kid = header.kid.ok_or_else(|| ApiError::unauthorized("the token names no signing key"))?;
        let key = self.decoding_key(&kid).await?;

        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.config.issuer]);
        validation.validate_aud = false; // checked below: ID tokens use `aud`, access tokens `client_id`
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        let claims = decode::<Claims>(token, &key, &validation)
            .map_err(|e| ApiError::unauthorized(format!("the token is not valid: {}", reason(&e))))?
            .claims;
        if !claims.issued_to(&self.config.client_id) {
            return Err(ApiError::unauthorized("the token was issued to another client"));
        }
        if !matches!(claims.token_use.as_deref(), None | Some("id") | Some("access")) {
            return Err(ApiError::unauthorized("the token's use is not accepted"));
        }
        let user_id = UserId::parse(&claims.sub)
            .map_err(|_| ApiError::unauthorized("the token's subject is invalid"))?;
        let verified_email = if claims.email_is_verified() {
            claims.email.as_deref().and_then(|e| Email::parse(e).ok())
        } else {
            None
        };
        Ok(Caller { user_id, verified_email })
    }

    async fn decoding_key(&self, kid: &str) -> Result<DecodingKey, ApiError> {
        if let Some(set) = self.keys.read().await.clone()
            && let Some(jwk) = set.find(kid)
        {
            return DecodingKey::from_jwk(jwk)
                .map_err(|_| ApiError::unauthorized("the signing key is unusable"));
        }
        let set = self.refresh().await?;
        match set.and_then(|s| s.find(kid).cloned()) {
            Some(jwk) => {
                DecodingKey::from_jwk(&jwk).map_err(|_| ApiError::unauthorized("the signing key is unusable"))
            }
            None => Err(ApiError::unauthorized("the token's signing key is unknown")),
        }
    }

    /// Fetches the JWKS unless another request just did; returns the keys as they now are.
    async fn refresh(&self) -> Result<Option<Arc<JwkSet>>, ApiError> {
        let mut last = self.last_fetch.lock().await;
        let cached = self.keys.read().await.clone();
        if cached.is_some() && last.is_some_and(|t| t.elapsed() < self.config.jwks_min_refresh) {
            return Ok(cached);
        }
        let fetched = self.fetch().await.map_err(ApiError::from)?;
        *last = Some(Instant::now());
        let fetched = Arc::new(fetched);
        *self.keys.write().await = Some(fetched.clone());
        Ok(Some(fetched))
    }

    async fn fetch(&self) -> Result<JwkSet, DomainError> {
        let client = self
            .http
            .get_or_init(|| {
                let https = hyper_rustls::HttpsConnectorBuilder::new()
                    .with_native_roots()
                    .map_err(|e| format!("loading root certificates: {e}"))?
                    .https_or_http()
                    .enable_http1()
                    .build();
                Ok(Client::builder(TokioExecutor::new()).build(https))
            })
            .as_ref()
            .map_err(|e| DomainError::unavailable("building the JWKS client", e.clone()))?;
        let uri: http::Uri =
            self.config.jwks_url.parse().map_err(|e| DomainError::unavailable("parsing the JWKS URL", e))?;
        let response = tokio::time::timeout(JWKS_TIMEOUT, client.get(uri))
            .await
            .map_err(|e| DomainError::unavailable("fetching the JWKS", e))?
            .map_err(|e| DomainError::unavailable("fetching the JWKS", e))?;
        if !response.status().is_success() {
            return Err(DomainError::unavailable(
                "fetching the JWKS",
                format!("status {}", response.status()),
            ));
        }
        let body =
            tokio::time::timeout(JWKS_TIMEOUT, Limited::new(response.into_body(), MAX_JWKS_BYTES).collect())
                .await
                .map_err(|e| DomainError::unavailable("reading the JWKS", e))?
                .map_err(|e| DomainError::unavailable("reading the JWKS", e))?
                .to_bytes();
        serde_json::from_slice(&body).map_err(|e| DomainError::unavailable("decoding the JWKS", e))
    }
}

fn reason(e: &jsonwebtoken::errors::Error) -> &'static str {
    use jsonwebtoken::errors::ErrorKind;
    match e.kind() {
        ErrorKind::ExpiredSignature => "it has expired",
        ErrorKind::InvalidIssuer => "wrong issuer",
        ErrorKind::InvalidSignature => "bad signature",
        ErrorKind::ImmatureSignature => "not valid yet",
        ErrorKind::MissingRequiredClaim(_) => "a required claim is missing",
        _ => "malformed",
    }
}
