//! DynamoDB Streams handler: sends the SES email for each new pending invitation, and again for
//! each resend, and records the delivery (message id, time) on the invitation.
//!
//! - Unrelated records are skipped from the images, without parsing them: an invitation's INSERT
//!   is mailed, and a MODIFY only when its `sends` count grew (a resend; the recording of a
//!   delivery, and the no-op updates the emulator streams, leave it alone).
//! - A transient failure (SES throttling or unreachable, DynamoDB unavailable) stops the batch at
//!   that record and reports it in `batchItemFailures`: Lambda retries from there, in order, and
//!   nothing is lost while SES is down.
//! - A permanent rejection (the address or the sender refused) is not retried: the invitation is
//!   marked `undeliverable` with SES's reason, which the inviter sees on the Members page.
//! - Redelivery is safe: the invitation is read fresh and skipped once a delivery is recorded, and
//!   the recording itself is conditional, so a batch handled twice records one delivery. The one
//!   window left is a send that succeeded with its recording lost (the function died or DynamoDB
//!   failed in between): the retry sends that one email a second time, and never more.
//! - Invitations answered or expired before the email went out are not mailed.

use std::sync::Arc;

use aws_lambda_events::dynamodb::{Event, EventRecord};
use aws_lambda_events::streams::DynamoDbEventResponse;
use lambda_runtime::{Error, LambdaEvent};
use orgs::config::MailerConfig;
use orgs::domain::{Delivery, DomainError, InvitationStatus, MailProblem, MailProblemKind, Timestamp};
use orgs::mail::{Mailer, SendError, SesMailer, invitation_email};
use orgs::store::Store;
use orgs::store::stream::{Change, Kind, decode};
use orgs::{Clock, SystemClock};

/// What the mailer holds for its lifetime.
pub struct InvitationMailer {
    pub store: Store,
    pub mail: Arc<dyn Mailer>,
    pub dashboard_url: String,
    pub clock: Arc<dyn Clock>,
}

impl InvitationMailer {
    pub async fn from_env() -> Result<Self, orgs::config::ConfigError> {
        let config = MailerConfig::from_source(&orgs::config::Env)?;
        let sdk = orgs::aws::sdk_config(&orgs::config::Env)?;
        Ok(Self {
            store: Store::new(aws_sdk_dynamodb::Client::new(&sdk), config.table_name),
            mail: Arc::new(SesMailer::new(
                aws_sdk_ses::Client::new(&sdk),
                config.sender,
                config.configuration_set,
            )),
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
    /// SES refused it for good; recorded on the invitation.
    Undeliverable,
}

pub async fn handle(
    mailer: &InvitationMailer,
    event: LambdaEvent<Event>,
) -> Result<DynamoDbEventResponse, Error> {
    Ok(orgs::stream::in_order(&event.payload.records, "invitation email", |record| mail_one(mailer, record))
        .await)
}

async fn mail_one(mailer: &InvitationMailer, record: &EventRecord) -> Result<Outcome, DomainError> {
    let id = match decode(record)? {
        Change::Invitation { kind: Kind::Insert, id, .. } | Change::Invitation { resent: true, id, .. } => id,
        _ => return Ok(Outcome::Ignored),
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
    if invitation.mail_problem.is_some() {
        return Ok(Outcome::Skipped);
    }
    let email = invitation_email(&invitation, &mailer.dashboard_url);
    match mailer.mail.send(&email, &id.to_string()).await {
        Ok(message_id) => {
            let delivery = Delivery { message_id, sent_at: now };
            mailer.store.record_delivery(&invitation, &delivery).await?;
            tracing::info!(invitation_id = %id, "invitation email sent");
            Ok(Outcome::Sent)
        }
        Err(SendError::Rejected(reason)) => {
            tracing::warn!(invitation_id = %id, %reason, "SES rejected the invitation email; marked undeliverable");
            let problem = MailProblem { kind: MailProblemKind::Undeliverable, reason, at: now };
            mailer.store.record_mail_problem(&invitation, &problem).await?;
            Ok(Outcome::Undeliverable)
        }
        Err(SendError::Failed(e)) => Err(e),
    }
}
