//! An operator grants an organization more credits. There is no HTTP route to this function:
//! it is invoked directly (`aws lambda invoke`, authorized by IAM's `lambda:InvokeFunction`,
//! which no member holds), with `{"org_id", "credits", "operator", "reason"}`. The grant is in
//! the organization's audit log with the operator and reason; the answer is the new balance.

use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent};
use orgs::domain::Balance;
use orgs::domain::{Credits, DomainError, OrgId, Timestamp};
use orgs::store::Store;
use orgs::{Clock, SystemClock};
use serde::{Deserialize, Serialize};

pub struct Granter {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
}

impl Granter {
    pub fn from_env() -> Result<Self, orgs::config::ConfigError> {
        Ok(Self { store: orgs::app::store_from_env()?, clock: Arc::new(SystemClock) })
    }
}

/// What the operator sends.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    pub org_id: String,
    /// Credits to add: positive, at most three decimals.
    pub credits: f64,
    /// Who grants (for the audit log): 1 to 128 characters.
    pub operator: String,
    /// Why (for the audit log): 1 to 500 characters.
    pub reason: String,
}

#[derive(Debug, Serialize)]
pub struct Granted {
    pub org_id: OrgId,
    #[serde(flatten)]
    pub credits: Balance,
}

pub async fn handle(g: &Granter, event: LambdaEvent<Grant>) -> Result<Granted, Error> {
    let grant = event.payload;
    let result = grant_credits(g, &grant).await;
    match &result {
        Ok(granted) => {
            tracing::info!(org_id = %granted.org_id, credits = grant.credits, operator = %grant.operator, "credits granted")
        }
        Err(e) => tracing::warn!(error = %orgs::telemetry::chain(e), "credit grant refused"),
    }
    Ok(result?)
}

async fn grant_credits(g: &Granter, grant: &Grant) -> Result<Granted, DomainError> {
    let org = OrgId::parse(&grant.org_id)?;
    let amount = Credits::parse_positive(grant.credits)?;
    let operator = text("operator", &grant.operator, 128)?;
    let reason = text("reason", &grant.reason, 500)?;
    let now = Timestamp::from_datetime(g.clock.now());
    let credits = g.store.grant_credits(&org, amount, operator, reason, now).await?;
    Ok(Granted { org_id: org, credits })
}

fn text<'a>(name: &str, value: &'a str, max: usize) -> Result<&'a str, DomainError> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(DomainError::Invalid(format!("'{name}' must be 1 to {max} printable characters")));
    }
    Ok(value)
}
