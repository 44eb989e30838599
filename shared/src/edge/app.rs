//! What every HTTP function holds for its lifetime: the store, the token verifier and the clock.

use std::sync::Arc;

use std::future::Future;

use lambda_http::{Body, Request, Response, run_concurrent, service_fn};

use crate::auth::{Caller, Verifier};
use crate::clock::{Clock, SystemClock};
use crate::config::{self, AuthConfig, ConfigError, Limits, Pricing};
use crate::domain::api_keys::{ApiKey, KeyId};
use crate::domain::{DomainError, Timestamp};
use crate::http::ApiError;
use crate::store::Store;

/// The table from Lambda's environment (`TABLE_NAME`, the region and credentials): what every
/// function that only needs the store builds at init.
pub fn store_from_env() -> Result<Store, ConfigError> {
    let sdk = crate::aws::sdk_config(&config::Env)?;
    Ok(Store::new(aws_sdk_dynamodb::Client::new(&sdk), config::table_name(&config::Env)?))
}

/// The dependencies of the API functions, built once per cold start.
pub struct Api {
    pub store: Store,
    pub verifier: Verifier,
    pub clock: Arc<dyn Clock>,
    pub limits: Limits,
    pub pricing: Pricing,
    /// What nodes' instance identity documents are verified against: empty but where nodes
    /// enroll, the cluster agent's function, whose `main` reads it ([`Api::with_node_identity`]).
    /// Parsing certificates links an X.509 and RSA stack that no other function needs.
    pub node_identity: crate::domain::node_identity::IdentityVerifier,
    /// Which addresses a webhook endpoint may name: public ones only, except on the test stack.
    /// No configuration sets it, so no deployment can widen it.
    pub webhook_targets: crate::domain::webhooks::Targets,
}

impl Api {
    /// Reads configuration and builds clients. No network call: the SDK and the JWKS connect on
    /// first use.
    pub async fn from_env() -> Result<Self, ConfigError> {
        let store = store_from_env()?;
        let verifier = Verifier::new(AuthConfig::from_source(&config::Env)?);
        let limits = Limits::from_source(&config::Env)?;
        let pricing = Pricing::from_source(&config::Env)?;
        Ok(Self {
            store,
            verifier,
            clock: Arc::new(SystemClock),
            limits,
            pricing,
            node_identity: crate::domain::node_identity::IdentityVerifier::default(),
            webhook_targets: crate::domain::webhooks::Targets::PublicOnly,
        })
    }

    /// The same, verifying identity documents against `NODE_IDENTITY_CERTIFICATES` (a bundle
    /// that does not parse stops the function at start).
    pub fn with_node_identity(mut self) -> Result<Self, ConfigError> {
        self.node_identity = config::node_identity(&config::Env)?;
        Ok(self)
    }

    pub fn now(&self) -> Timestamp {
        Timestamp::from_datetime(self.clock.now())
    }

    /// The organization and the caller's membership of it, in one strongly consistent round
    /// trip; 404 unless both exist (non-members may not learn that it does).
    pub async fn membership_in(
        &self,
        org: &crate::domain::OrgId,
        caller: &Caller,
    ) -> Result<(crate::domain::Organization, crate::domain::Membership), ApiError> {
        self.store
            .organization_for(org, &caller.user_id)
            .await?
            .ok_or_else(|| crate::domain::DomainError::NotFound("organization").into())
    }

    /// `user` with the address the caller's token verified, when it is newer than the stored one
    /// (see [`crate::store::Store::follow_email`]).
    pub async fn following_email(
        &self,
        caller: &Caller,
        mut user: crate::domain::User,
    ) -> Result<crate::domain::User, ApiError> {
        if let (Some(email), Some(as_of)) = (&caller.verified_email, caller.issued_at)
            && *email != user.email
            && self.store.follow_email(&user.user_id, email, as_of).await?
        {
            tracing::info!(user_id = %user.user_id, "the person's verified email changed; theirs now");
            user.email = email.clone();
        }
        Ok(user)
    }

    /// The verified person calling, or 401. An API key is refused here (403): operations that
    /// act for a person (their dashboard, their keys, members and roles) take people only.
    pub async fn authenticate(&self, req: &Request) -> Result<Caller, ApiError> {
        match self.principal(req).await? {
            Principal::Person(caller) => Ok(caller),
            Principal::Key { .. } => Err(ApiError::from(DomainError::Forbidden(
                "an API key cannot use this operation: it acts for a person".into(),
            ))),
        }
    }

    /// Who calls: a person's JWT, or a service account's key (`Authorization: Bearer ocak_...`),
    /// told apart here and nowhere else. A key is checked for its form and checksum without any
    /// read (a typo is a 401 at once); whether it is in force is read with the organization
    /// ([`Api::acting_in`]).
    pub async fn principal(&self, req: &Request) -> Result<Principal, ApiError> {
        let header = req.headers().get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        match crate::auth::bearer(header) {
            Some(token) if ApiKey::looks_like(token) => match ApiKey::presented(token) {
                Some((key_id, key)) => Ok(Principal::Key { key_id, key }),
                None => Err(ApiError::unauthorized("the API key is malformed")),
            },
            _ => Ok(Principal::Person(self.verifier.verify(header).await?)),
        }
    }

    /// Whose read a view is ([`crate::store::Reader`]), for the store's views that read more
    /// than the organization and the membership in their one round trip.
    pub fn reader<'a>(&self, who: &'a Principal) -> crate::store::Reader<'a> {
        match who {
            Principal::Person(caller) => crate::store::Reader::Member(&caller.user_id),
            Principal::Key { key_id, key } => crate::store::Reader::Key { key_id, key, now: self.now() },
        }
    }

    /// After a view read with [`Api::reader`]: counts a key's request against its rate (429
    /// past it) and records its use (at most once a minute; a failure of that is logged, never
    /// the request's). A member's read does neither.
    pub async fn used(&self, acting: &crate::domain::Membership) -> Result<(), ApiError> {
        if let Some(used) = &acting.key {
            self.within_rate(used).await?;
            if let Err(e) = self.store.record_key_use(used, self.now()).await {
                tracing::warn!(key_id = %used.key_id, error = %crate::telemetry::chain(&e), "a key's use was not recorded");
            }
        }
        Ok(())
    }

    /// Counts a request of `key`: 429 when it made [`Limits::key_requests_per_minute`] this
    /// minute already, until the next.
    async fn within_rate(&self, key: &crate::domain::api_keys::KeyUse) -> Result<(), ApiError> {
        let (now, limit) = (self.now(), self.limits.key_requests_per_minute);
        if self.store.count_key_request(key, now, limit).await? {
            return Ok(());
        }
        tracing::info!(key_id = %key.key_id, limit, "an API key is over its rate");
        Err(crate::domain::DomainError::TooMany {
            detail: format!("this API key made {limit} requests this minute, its most"),
            retry_after_seconds: u64::try_from(60 - now.unix().rem_euclid(60)).unwrap_or(60),
        }
        .into())
    }

    /// The organization and who acts in it: the person's membership, or the stand-in membership
    /// of a key in force (its scopes), in one strongly consistent round trip. 404 for a person
    /// who is not a member; 401 for a key that is not one of the organization's keys in force
    /// (unknown, revoked, expired: the same answer). A key's use is recorded at most once a
    /// minute.
    pub async fn acting_in(
        &self,
        org: &crate::domain::OrgId,
        who: &Principal,
    ) -> Result<(crate::domain::Organization, crate::domain::Membership), ApiError> {
        let (key_id, key) = match who {
            Principal::Person(caller) => return self.membership_in(org, caller).await,
            Principal::Key { key_id, key } => (key_id, key),
        };
        let now = self.now();
        match self.store.organization_for_key(org, key_id, key, now).await? {
            Ok((organization, membership)) => {
                self.used(&membership).await?;
                Ok((organization, membership))
            }
            Err(refusal) => {
                tracing::info!(key_id = %key_id, ?refusal, "an API key was refused");
                Err(ApiError::unauthorized("the API key is not valid"))
            }
        }
    }
}

/// Who a request comes from.
#[derive(Debug)]
pub enum Principal {
    /// A person, by their identity provider's token.
    Person(Caller),
    /// A service account, by one of its keys (form and checksum checked, not yet looked up).
    Key { key_id: KeyId, key: ApiKey },
}

/// How often a request reads again after losing a race ([`crate::domain::DomainError::Stale`]).
pub const READ_AGAIN: usize = 4;

/// Runs `attempt` (read, decide, conditional write) again while its write finds that what it read
/// has changed: the person never sees "try again" for a race the service can settle itself, and
/// the decision is always made on what is there now (a demoted admin's retry is refused). Bounded:
/// after [`READ_AGAIN`] lost races the conflict is answered.
pub async fn reading_again<T, F, Fut>(mut attempt: F) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let mut tries = 0;
    loop {
        tries += 1;
        match attempt().await {
            Err(e) if tries < READ_AGAIN && e.is_stale() => {
                tracing::info!(tries, "what the request read changed; reading again");
            }
            result => return result,
        }
    }
}

/// What an API function's `main` runs: builds the [`Api`] once per cold start, then hands every
/// request to `handle`. `run_concurrent` polls sequentially unless AWS_LAMBDA_MAX_CONCURRENCY asks
/// for more (Lambda Managed Instances; `cargo lambda watch` sets it to 1).
pub async fn serve<F, Fut>(handle: F) -> Result<(), lambda_http::Error>
where
    F: Fn(Arc<Api>, Request) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<Response<Body>, lambda_http::Error>> + Send + 'static,
{
    serve_api(Api::from_env().await?, handle).await
}

/// [`serve`] with an [`Api`] the function's `main` built (or completed) itself.
pub async fn serve_api<F, Fut>(api: Api, handle: F) -> Result<(), lambda_http::Error>
where
    F: Fn(Arc<Api>, Request) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<Response<Body>, lambda_http::Error>> + Send + 'static,
{
    let api = Arc::new(api);
    run_concurrent(service_fn(move |req| handle(api.clone(), req))).await
}
