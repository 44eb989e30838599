//! Bearer JWT to [`Caller`]: RS256 only, verified against the issuer's JWKS.
//!
//! - Time: `exp` and `nbf` are enforced with a leeway of [`LEEWAY_SECONDS`] (not the library's
//!   60), and a token whose `iat` lies beyond that in the future is refused.
//! - Keys: fetched on first use (never during init), trusted for `jwks_max_age` (an hour: a key
//!   the issuer drops stops being trusted within it), refetched when a token names an unknown
//!   `kid` at most once per `jwks_min_refresh` (forged kids cannot become a flood of fetches),
//!   and after a failed fetch not fetched again until a backoff (1 s doubling to 60 s) has passed.
//!   Keys older than `jwks_max_age` are not used when the refetch fails: that is a 503.
//!
//! The token says who the caller is, nothing more: what they may do is read from DynamoDB.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;
use time::OffsetDateTime;
use tokio::sync::Mutex;

use crate::clock::{Clock, SystemClock};
use crate::config::AuthConfig;
use crate::domain::{DomainError, Email, UserId};
use crate::http::ApiError;

/// The token of an `Authorization: Bearer <token>` header (the scheme's case as clients send
/// it), trimmed; `None` when there is no such header or it holds no token.
pub fn bearer(authorization: Option<&str>) -> Option<&str> {
    authorization
        .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// Who is calling, as the verified token says.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    pub user_id: UserId,
    /// Present only when the token carries an email the identity provider verified.
    pub verified_email: Option<Email>,
    /// When the token was issued (`iat`, Unix seconds): the address the person's newest token
    /// carries is theirs, and an older token still in use never takes it back.
    pub issued_at: Option<i64>,
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
    iat: Option<i64>,
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
/// Clock skew tolerated on `exp`, `nbf` and `iat`.
pub const LEEWAY_SECONDS: u64 = 5;
/// After failed fetches, the next one waits 1 s, 2 s, 4 s... up to this.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// The issuer's keys as last fetched, and how fetching has gone.
#[derive(Default)]
struct KeyCache {
    keys: Option<JwkSet>,
    fetched_at: Option<OffsetDateTime>,
    /// The last attempt, successful or not: unknown kids refetch at most once per min refresh.
    attempted_at: Option<OffsetDateTime>,
    /// Failed fetches in a row; the next attempt waits for the backoff they set.
    failures: u32,
}

impl KeyCache {
    fn backoff(&self) -> Duration {
        match self.failures {
            0 => Duration::ZERO,
            n => Duration::from_secs(1u64 << (n - 1).min(6)).min(MAX_BACKOFF),
        }
    }
}

/// Verifies bearer tokens. One per cold start; the JWKS cache lives as long as it does.
pub struct Verifier {
    config: AuthConfig,
    clock: Arc<dyn Clock>,
    /// Built on first use: loading the root certificates is no work for init.
    http: OnceLock<Result<HttpClient, String>>,
    /// Also serializes fetches: concurrent requests wait for one fetch rather than each making one.
    cache: Mutex<KeyCache>,
}

impl Verifier {
    pub fn new(config: AuthConfig) -> Self {
        Self {
            config,
            clock: Arc::new(SystemClock),
            http: OnceLock::new(),
            cache: Mutex::new(KeyCache::default()),
        }
    }

    /// The same verifier reading time from `clock` (for the key cache and `iat`).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The caller named by `Authorization: Bearer <jwt>`, or 401 (503 when the JWKS cannot be had).
    pub async fn verify(&self, authorization: Option<&str>) -> Result<Caller, ApiError> {
        let token =
            bearer(authorization).ok_or_else(|| ApiError::unauthorized("a bearer token is required"))?;
        let header = decode_header(token).map_err(|_| ApiError::unauthorized("the token is malformed"))?;
        if header.alg != Algorithm::RS256 {
            return Err(ApiError::unauthorized("the token's algorithm is not accepted"));
        }
        let kid = header.kid.ok_or_else(|| ApiError::unauthorized("the token names no signing key"))?;
        let key = self.decoding_key(&kid).await?;

        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.config.issuer]);
        validation.validate_aud = false; // checked below: ID tokens use `aud`, access tokens `client_id`
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        let claims = decode::<Claims>(token, &key, &validation)
            .map_err(|e| ApiError::unauthorized(format!("the token is not valid: {}", reason(&e))))?
            .claims;
        let now = self.clock.now().unix_timestamp();
        if claims.iat.is_some_and(|iat| iat > now + LEEWAY_SECONDS as i64) {
            return Err(ApiError::unauthorized("the token is not valid: it was issued in the future"));
        }
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
        Ok(Caller { user_id, verified_email, issued_at: claims.iat })
    }

    async fn decoding_key(&self, kid: &str) -> Result<DecodingKey, ApiError> {
        let unusable = |_| ApiError::unauthorized("the signing key is unusable");
        let mut cache = self.cache.lock().await;
        let now = self.clock.now();
        let age = |t: Option<OffsetDateTime>| t.map(|t| now - t).unwrap_or(time::Duration::MAX);
        let fresh = age(cache.fetched_at) < self.config.jwks_max_age;
        if fresh && let Some(jwk) = cache.keys.as_ref().and_then(|set| set.find(kid)) {
            return DecodingKey::from_jwk(jwk).map_err(unusable);
        }
        // Stale keys must be refetched; fresh ones only for an unknown kid, and not too often.
        let waited = if fresh { self.config.jwks_min_refresh.max(cache.backoff()) } else { cache.backoff() };
        if cache.attempted_at.is_some() && age(cache.attempted_at) < waited {
            return Err(if fresh {
                ApiError::unauthorized("the token's signing key is unknown")
            } else {
                ApiError::from(DomainError::unavailable(
                    "fetching the JWKS",
                    format!("backing off after {} failed fetches", cache.failures),
                ))
            });
        }
        cache.attempted_at = Some(now);
        match self.fetch().await {
            Ok(set) => {
                cache.keys = Some(set);
                cache.fetched_at = Some(now);
                cache.failures = 0;
            }
            Err(e) => {
                cache.failures = cache.failures.saturating_add(1);
                return Err(e.into());
            }
        }
        match cache.keys.as_ref().and_then(|set| set.find(kid)) {
            Some(jwk) => DecodingKey::from_jwk(jwk).map_err(unusable),
            None => Err(ApiError::unauthorized("the token's signing key is unknown")),
        }
    }

    async fn fetch(&self) -> Result<JwkSet, DomainError> {
        let client = self
            .http
            .get_or_init(|| {
                let https = crate::adapters::aws::https_connector()?;
                Ok(Client::builder(TokioExecutor::new()).build(https))
            })
            .as_ref()
            .map_err(|e| DomainError::failed("building the JWKS client", e.clone()))?;
        let uri: http::Uri =
            self.config.jwks_url.parse().map_err(|e| DomainError::failed("parsing the JWKS URL", e))?;
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
