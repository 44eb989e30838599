//! Cognito User Pool PostConfirmation trigger: creates the user (id = `sub`, email lowercased)
//! and a personal organization they own, in one transaction. A retried trigger, or the
//! ConfirmForgotPassword variant for an existing user, creates nothing twice. The event goes back
//! to Cognito unchanged, as the trigger contract requires.

use std::sync::Arc;

use aws_lambda_events::cognito::CognitoEventUserPoolsPostConfirmation;
use lambda_runtime::{Error, LambdaEvent};
use orgs::domain::{Credits, Email, Timestamp, UserId};
use orgs::store::{Registration, Store};
use orgs::{Clock, SystemClock};

/// What the trigger holds for its lifetime.
pub struct Registrar {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    /// Credits the personal organization starts with (`TRIAL_CREDITS`).
    pub trial: Credits,
}

impl Registrar {
    pub async fn from_env() -> Result<Self, orgs::config::ConfigError> {
        Ok(Self {
            store: orgs::app::store_from_env()?,
            clock: Arc::new(SystemClock),
            trial: orgs::config::Pricing::from_source(&orgs::config::Env)?.trial,
        })
    }
}

/// Errors here are broken invariants (Cognito always sends `sub` and `email`) or a failing table;
/// returning `Err` makes Cognito fail the confirmation visibly instead of leaving a user without
/// an organization.
pub async fn handle(
    registrar: &Registrar,
    event: LambdaEvent<CognitoEventUserPoolsPostConfirmation>,
) -> Result<CognitoEventUserPoolsPostConfirmation, Error> {
    let attributes = &event.payload.request.user_attributes;
    let sub = attributes.get("sub").ok_or("PostConfirmation event without a sub attribute")?;
    let email = attributes.get("email").ok_or("PostConfirmation event without an email attribute")?;
    let user_id = UserId::parse(sub)?;
    let email = Email::parse(email)?;
    let now = Timestamp::from_datetime(registrar.clock.now());
    match registrar.store.register(&user_id, &email, registrar.trial, now).await? {
        Registration::Created { organization, .. } => {
            tracing::info!(user_id = %user_id, org_id = %organization.org_id, "registered user with personal organization");
        }
        Registration::AlreadyRegistered => {
            tracing::info!(user_id = %user_id, "user already registered; nothing to do")
        }
    }
    Ok(event.payload)
}
