//! Typed configuration, read once per cold start from the environment. A missing or empty
//! variable fails the start with the variable's name, before any request is taken.

use std::time::Duration;

use crate::domain::{Credits, Rates};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// Where configuration values come from: the process environment, or a map in tests.
pub trait Source {
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct Env;

impl Source for Env {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl<F: Fn(&str) -> Option<String>> Source for F {
    fn get(&self, name: &str) -> Option<String> {
        self(name)
    }
}

fn required(src: &dyn Source, name: &'static str) -> Result<String, ConfigError> {
    src.get(name).filter(|v| !v.trim().is_empty()).ok_or(ConfigError::Missing(name))
}

fn url(src: &dyn Source, name: &'static str) -> Result<String, ConfigError> {
    let value = required(src, name)?;
    if value.starts_with("https://") || value.starts_with("http://") {
        Ok(value.trim_end_matches('/').to_owned())
    } else {
        Err(ConfigError::Invalid { name, reason: "must be an http(s) URL".into() })
    }
}

/// `TABLE_NAME`: the service's one DynamoDB table.
pub fn table_name(src: &dyn Source) -> Result<String, ConfigError> {
    required(src, "TABLE_NAME")
}

/// The certificates whose keys sign the instance identity documents nodes enroll with:
/// `NODE_IDENTITY_CERTIFICATES`, a PEM bundle (AWS's RSA certificates for the regions clusters run
/// in; the local stack's dev certificate), its line breaks as they are or written `\n` (one line,
/// as env files hold it). Unset or empty: every enrollment is refused, and said so in the log.
pub fn node_identity(
    src: &dyn Source,
) -> Result<crate::domain::node_identity::IdentityVerifier, ConfigError> {
    let bundle = src.get("NODE_IDENTITY_CERTIFICATES").unwrap_or_default().replace("\\n", "\n");
    crate::domain::node_identity::IdentityVerifier::from_pem_bundle(&bundle)
        .map_err(|reason| ConfigError::Invalid { name: "NODE_IDENTITY_CERTIFICATES", reason })
}

/// How bearer tokens are verified.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// `JWT_ISSUER`: the `iss` every token must carry (the Cognito user pool's URL).
    pub issuer: String,
    /// `JWT_CLIENT_ID`: the app client the token was issued to (`aud` or `client_id`).
    pub client_id: String,
    /// `JWKS_URL`: the issuer's signing keys; defaults to `{JWT_ISSUER}/.well-known/jwks.json`.
    pub jwks_url: String,
    /// `JWKS_MIN_REFRESH_SECONDS`: an unknown `kid` refetches the keys at most this often (10).
    pub jwks_min_refresh: Duration,
    /// `JWKS_MAX_AGE_SECONDS`: fetched keys are trusted this long (3600), then fetched again, so
    /// a key the issuer drops stops being trusted within it.
    pub jwks_max_age: Duration,
}

/// Whether `url` is `https`, or `http` to this machine (the local stack's issuer).
fn https_or_loopback(url: &str) -> bool {
    let Ok(uri) = url.parse::<http::Uri>() else {
        return false;
    };
    match (uri.scheme_str(), uri.host()) {
        (Some("https"), Some(_)) => true,
        (Some("http"), Some(host)) => matches!(host, "127.0.0.1" | "localhost" | "[::1]" | "::1"),
        _ => false,
    }
}

fn seconds(src: &dyn Source, name: &'static str, default: u64) -> Result<Duration, ConfigError> {
    match src.get(name) {
        None => Ok(Duration::from_secs(default)),
        Some(v) => Ok(Duration::from_secs(v.parse().map_err(|_| ConfigError::Invalid {
            name,
            reason: "must be a whole number of seconds".into(),
        })?)),
    }
}

impl AuthConfig {
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let issuer = url(src, "JWT_ISSUER")?;
        let jwks_url = match src.get("JWKS_URL").filter(|v| !v.is_empty()) {
            Some(_) => url(src, "JWKS_URL")?,
            None => format!("{issuer}/.well-known/jwks.json"),
        };
        if !https_or_loopback(&jwks_url) {
            let name =
                if src.get("JWKS_URL").is_some_and(|v| !v.is_empty()) { "JWKS_URL" } else { "JWT_ISSUER" };
            return Err(ConfigError::Invalid {
                name,
                reason:
                    "the signing keys must be fetched over https (plain http only on this machine's loopback)"
                        .into(),
            });
        }
        Ok(Self {
            issuer,
            client_id: required(src, "JWT_CLIENT_ID")?,
            jwks_url,
            jwks_min_refresh: seconds(src, "JWKS_MIN_REFRESH_SECONDS", 10)?,
            jwks_max_age: seconds(src, "JWKS_MAX_AGE_SECONDS", 3600)?,
        })
    }
}

/// What cluster instances boot with to fetch and start the node agent: `AGENT_API_URL` (the
/// service's base URL), `AGENT_ARTIFACT_URL` (the agent binary in the artifacts bucket) and
/// `AGENT_SHA256` (its pinned checksum).
pub fn node_bootstrap(src: &dyn Source) -> Result<crate::cloud::user_data::NodeBootstrap, ConfigError> {
    let (api, artifact, sha) = (
        required(src, "AGENT_API_URL")?,
        required(src, "AGENT_ARTIFACT_URL")?,
        required(src, "AGENT_SHA256")?,
    );
    crate::cloud::user_data::NodeBootstrap::new(&api, &artifact, &sha)
        .map_err(|reason| ConfigError::Invalid { name: "AGENT_ARTIFACT_URL", reason })
}

/// `CLUSTER_IMAGE_ID`: the machine image cluster instances boot.
pub fn cluster_image_id(src: &dyn Source) -> Result<String, ConfigError> {
    required(src, "CLUSTER_IMAGE_ID")
}

/// `SERVICE_ACCOUNT_ID`: the service's own AWS account (12 digits), which customers' trust
/// policies let assume their roles.
pub fn service_account_id(src: &dyn Source) -> Result<String, ConfigError> {
    let value = required(src, "SERVICE_ACCOUNT_ID")?;
    if value.len() == 12 && value.chars().all(|c| c.is_ascii_digit()) {
        Ok(value)
    } else {
        Err(ConfigError::Invalid {
            name: "SERVICE_ACCOUNT_ID",
            reason: "must be a 12-digit AWS account id".into(),
        })
    }
}

/// The service as customers' accounts see it: `SERVICE_ACCOUNT_ID` and `SERVICE_ROLE_ARNS` (the
/// comma-separated ARNs of the roles that assume customers' roles, each in that account).
pub fn service_identity(src: &dyn Source) -> Result<crate::domain::ServiceIdentity, ConfigError> {
    let account_id = service_account_id(src)?;
    let invalid = |reason: String| ConfigError::Invalid { name: "SERVICE_ROLE_ARNS", reason };
    let mut assuming_roles = Vec::new();
    for arn in required(src, "SERVICE_ROLE_ARNS")?.split(',').map(str::trim).filter(|a| !a.is_empty()) {
        let role = crate::domain::RoleArn::parse(arn).map_err(|e| invalid(format!("{arn}: {e}")))?;
        if role.account() != account_id {
            return Err(invalid(format!("{arn} is not in SERVICE_ACCOUNT_ID's account")));
        }
        assuming_roles.push(role);
    }
    if assuming_roles.is_empty() {
        return Err(invalid("names no role".into()));
    }
    Ok(crate::domain::ServiceIdentity { account_id, assuming_roles })
}

/// The deployment's limits on what one organization or user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `INVITATIONS_PER_ORG_PER_DAY` (50): invitations, new or resent, per organization in any
    /// rolling 24 hours.
    pub invitations_per_org: usize,
    /// `INVITATIONS_PER_INVITER_PER_DAY` (100): the same per inviter, across their organizations.
    pub invitations_per_inviter: usize,
    /// `INVITATIONS_PER_RECIPIENT_PER_DAY` (10): invitations one address receives, from all
    /// organizations, in any rolling 24 hours.
    pub invitations_per_recipient: usize,
    /// `MAX_OWNED_ORGANIZATIONS` (20): organizations one user may own.
    pub max_owned: u32,
    /// `MAX_LIVE_CLUSTERS` (100): clusters an organization may have that are not terminated
    /// (those in `error` count: their instances may still run).
    pub max_live_clusters: u32,
    /// `API_KEY_REQUESTS_PER_MINUTE` (600): requests one API key may make in a clock minute;
    /// past it, 429 until the next minute.
    pub key_requests_per_minute: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            invitations_per_org: 50,
            invitations_per_inviter: 100,
            invitations_per_recipient: 10,
            max_owned: 20,
            max_live_clusters: 100,
            key_requests_per_minute: 600,
        }
    }
}

fn count(src: &dyn Source, name: &'static str, default: u32) -> Result<u32, ConfigError> {
    match src.get(name).filter(|v| !v.trim().is_empty()) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or(ConfigError::Invalid { name, reason: "must be a whole number from 1 to 1000".into() }),
    }
}

impl Limits {
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let d = Self::default();
        Ok(Self {
            invitations_per_org: count(src, "INVITATIONS_PER_ORG_PER_DAY", d.invitations_per_org as u32)?
                as usize,
            invitations_per_inviter: count(
                src,
                "INVITATIONS_PER_INVITER_PER_DAY",
                d.invitations_per_inviter as u32,
            )? as usize,
            invitations_per_recipient: count(
                src,
                "INVITATIONS_PER_RECIPIENT_PER_DAY",
                d.invitations_per_recipient as u32,
            )? as usize,
            max_owned: count(src, "MAX_OWNED_ORGANIZATIONS", d.max_owned)?,
            max_live_clusters: count(src, "MAX_LIVE_CLUSTERS", d.max_live_clusters)?,
            key_requests_per_minute: count(src, "API_KEY_REQUESTS_PER_MINUTE", d.key_requests_per_minute)?,
        })
    }
}

/// What clusters cost and what a new organization gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pricing {
    /// `TRIAL_CREDITS` (100): credits every new organization is granted.
    pub trial: Credits,
    /// `CREDIT_RATES` (`*=1`): credits per instance-hour by instance type, `*` for the rest
    /// (`m5.large=0.5,m5.xlarge=1,*=1`).
    pub rates: Rates,
}

impl Default for Pricing {
    fn default() -> Self {
        Self { trial: Credits::from_millis(100_000), rates: Rates::default() }
    }
}

impl Pricing {
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        let d = Self::default();
        let trial = match src.get("TRIAL_CREDITS").filter(|v| !v.trim().is_empty()) {
            None => d.trial,
            Some(v) => match v.trim().parse::<f64>() {
                Ok(0.0) => Credits::ZERO,
                Ok(n) => Credits::parse_positive(n)
                    .map_err(|e| ConfigError::Invalid { name: "TRIAL_CREDITS", reason: e.to_string() })?,
                Err(_) => {
                    return Err(ConfigError::Invalid {
                        name: "TRIAL_CREDITS",
                        reason: "must be a number".into(),
                    });
                }
            },
        };
        let rates = match src.get("CREDIT_RATES") {
            None => d.rates,
            Some(v) => {
                Rates::parse(&v).map_err(|reason| ConfigError::Invalid { name: "CREDIT_RATES", reason })?
            }
        };
        Ok(Self { trial, rates })
    }
}

/// What the invitation mailer needs.
#[derive(Debug, Clone)]
pub struct MailerConfig {
    pub table_name: String,
    /// `SES_SENDER`: the verified SES identity invitations come from.
    pub sender: String,
    /// `DASHBOARD_URL`: where the email sends the invitee to answer.
    pub dashboard_url: String,
    /// `SES_CONFIGURATION_SET` (optional): the configuration set whose event destination
    /// publishes bounces and complaints to `record-mail-feedback`.
    pub configuration_set: Option<String>,
}

impl MailerConfig {
    pub fn from_source(src: &dyn Source) -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: table_name(src)?,
            sender: required(src, "SES_SENDER")?,
            dashboard_url: url(src, "DASHBOARD_URL")?,
            configuration_set: src.get("SES_CONFIGURATION_SET").filter(|v| !v.trim().is_empty()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn source(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k: &str| map.get(k).cloned()
    }

    #[test]
    fn a_missing_variable_is_named() {
        let err = AuthConfig::from_source(&source(&[("JWT_ISSUER", "https://issuer.example")])).unwrap_err();
        assert_eq!(err.to_string(), "environment variable JWT_CLIENT_ID is not set");
    }

    #[test]
    fn the_jwks_url_defaults_to_the_issuers_well_known_keys() -> Result<(), ConfigError> {
        let cfg = AuthConfig::from_source(&source(&[
            ("JWT_ISSUER", "https://issuer.example/"),
            ("JWT_CLIENT_ID", "c"),
        ]))?;
        assert_eq!(cfg.jwks_url, "https://issuer.example/.well-known/jwks.json");
        assert_eq!(cfg.jwks_min_refresh, Duration::from_secs(10));
        assert_eq!(cfg.jwks_max_age, Duration::from_secs(3600));
        Ok(())
    }

    #[test]
    fn signing_keys_are_fetched_over_https_except_on_loopback() {
        let config = |issuer: &str, jwks: Option<&str>| {
            let mut pairs = vec![("JWT_ISSUER", issuer), ("JWT_CLIENT_ID", "c")];
            pairs.extend(jwks.map(|j| ("JWKS_URL", j)));
            AuthConfig::from_source(&source(&pairs))
        };
        assert!(config("https://cognito-idp.us-east-1.amazonaws.com/pool", None).is_ok());
        assert!(config("http://127.0.0.1:3001", None).is_ok());
        assert!(config("http://localhost:3001", None).is_ok());
        assert!(config("http://[::1]:3001", None).is_ok());
        for (issuer, jwks) in [
            ("http://issuer.example", None),
            ("https://issuer.example", Some("http://issuer.example/keys")),
            ("https://issuer.example", Some("http://127.0.0.1.example.com/keys")),
            ("https://issuer.example", Some("http://10.0.0.1/keys")),
        ] {
            let err = config(issuer, jwks).expect_err(issuer);
            assert!(err.to_string().contains("https"), "{issuer} {jwks:?}: {err}");
        }
    }

    #[test]
    fn pricing_defaults_and_refuses_nonsense() -> Result<(), ConfigError> {
        assert_eq!(Pricing::from_source(&source(&[]))?, Pricing::default());
        let set = Pricing::from_source(&source(&[("TRIAL_CREDITS", "0"), ("CREDIT_RATES", "m5.large=2")]))?;
        assert_eq!(set.trial, Credits::ZERO);
        for (name, value) in
            [("TRIAL_CREDITS", "-5"), ("TRIAL_CREDITS", "lots"), ("CREDIT_RATES", "m5.large")]
        {
            let err = Pricing::from_source(&source(&[(name, value)])).expect_err(value);
            assert!(err.to_string().contains(name), "{err}");
        }
        Ok(())
    }

    #[test]
    fn limits_default_and_are_bounded() -> Result<(), ConfigError> {
        assert_eq!(Limits::from_source(&source(&[]))?, Limits::default());
        let set = Limits::from_source(&source(&[("INVITATIONS_PER_ORG_PER_DAY", "5")]))?;
        assert_eq!(set.invitations_per_org, 5);
        for bad in ["0", "1001", "many"] {
            let err = Limits::from_source(&source(&[("MAX_OWNED_ORGANIZATIONS", bad)])).unwrap_err();
            assert!(err.to_string().contains("MAX_OWNED_ORGANIZATIONS"), "{bad}");
        }
        Ok(())
    }

    #[test]
    fn a_dashboard_url_must_be_a_url() {
        let err = MailerConfig::from_source(&source(&[
            ("TABLE_NAME", "t"),
            ("SES_SENDER", "no-reply@example.com"),
            ("DASHBOARD_URL", "dashboard"),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("DASHBOARD_URL"));
    }
}
