//! DynamoDB Streams handler: sends the SES email for each new pending invitation and records the
//! delivery (message id, time) on the invitation.
//!
//! - Unrelated records are skipped from one attribute of the new image, without parsing it.
//! - Failures are reported per record in `batchItemFailures` (the record's sequence number), so
//!   Lambda retries from there; nothing is lost while SES is down.
//! - Redelivery is safe: the invitation is read fresh and skipped once a delivery is recorded, and
//!   the recording itself is conditional, so a batch handled twice records one delivery.
//! - Invitations answered or expired before the email went out are not mailed.

use std::sync::Arc;

use aws_lambda_events::dynamodb::{Event, EventRecord};
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use lambda_runtime::{Error, LambdaEvent};
use orgs::config::MailerConfig;
use orgs::domain::{Delivery, DomainError, InvitationId, InvitationStatus, Timestamp};
use orgs::mail::{SesMailer, invitation_email};
use orgs::store::{Store, is_invitation_image, schema};
use orgs::{Clock, SystemClock};

/// What the mailer holds for its lifetime.
pub struct InvitationMailer {
    pub store: Store,
    pub ses: SesMailer,
    pub dashboard_url: String,
    pub clock: Arc<dyn Clock>,
}

impl InvitationMailer {
    pub async fn from_env() -> Result<Self, orgs::config::ConfigError> {
        let config = MailerConfig::from_source(&orgs::config::Env)?;
        let sdk = orgs::aws::sdk_config(&orgs::config::Env)?;
        Ok(Self {
            store: Store::new(aws_sdk_dynamodb::Client::new(&sdk), config.table_name),
            ses: SesMailer::new(aws_sdk_ses::Client::new(&sdk), config.sender),
            dashboard_url: config.dashboard_url,
            clock: Arc::new(SystemClock),
        })
    }
}

/// What became of one record.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Not a new invitation.
    Ignored,
    /// Already mailed, answered, expired or gone.
    Skipped,
    Sent,
}

pub async fn handle(
    mailer: &InvitationMailer,
    event: LambdaEvent<Event>,
) -> Result<DynamoDbEventResponse, Error> {
    let mut response = DynamoDbEventResponse::default();
    for record in &event.payload.records {
        match mail_one(mailer, record).await {
            Ok(outcome) => tracing::debug!(event_id = %record.event_id, ?outcome, "record handled"),
            Err(e) => {
                tracing::error!(event_id = %record.event_id, error = %orgs::http::chain(&e), "invitation email failed; the record will be retried");
                let mut failure = DynamoDbBatchItemFailure::default();
                failure.item_identifier = record.change.sequence_number.clone();
                response.batch_item_failures.push(failure);
            }
        }
    }
    Ok(response)
}

async fn mail_one(mailer: &InvitationMailer, record: &EventRecord) -> Result<Outcome, DomainError> {
    let image = &record.change.new_image;
    let entity = match image.get(schema::ENTITY) {
        Some(serde_dynamo::AttributeValue::S(s)) => Some(s.as_str()),
        _ => None,
    };
    if record.event_name != "INSERT" || !is_invitation_image(entity) {
        return Ok(Outcome::Ignored);
    }
    let id = match image.get("invitation_id") {
        Some(serde_dynamo::AttributeValue::S(s)) => InvitationId::parse(s)?,
        _ => {
            return Err(DomainError::Corrupt("invitation record without invitation_id".into()));
        }
    };
    let now = Timestamp::from_datetime(mailer.clock.now());
    let Some(invitation) = mailer.store.invitation(&id).await? else {
        return Ok(Outcome::Skipped);
    };
    if invitation.delivery.is_some()
        || invitation.status != InvitationStatus::Pending
        || invitation.is_expired(now)
    {
        return Ok(Outcome::Skipped);
    }
    let email = invitation_email(&invitation, &mailer.dashboard_url);
    let message_id = mailer.ses.send(&email).await?;
    let delivery = Delivery { message_id, sent_at: now };
    mailer.store.record_delivery(&id, &delivery).await?;
    tracing::info!(invitation_id = %id, "invitation email sent");
    Ok(Outcome::Sent)
}
