//! SES bounce and complaint notifications (published by the mailer's configuration set to SNS):
//! a permanent bounce marks the invitation `bounced`, a complaint `complained`, with SES's words
//! as the reason, and the inviter sees it on the Members page.
//!
//! - The invitation is named by the `invitation_id` tag the mailer puts on every email, so no
//!   lookup by message id is needed.
//! - Transient (soft) bounces, deliveries and any other event type are logged and ignored: SES
//!   keeps trying those by itself.
//! - Safe twice: the first problem recorded on an invitation stands.
//! - A notification that cannot be read is logged and dropped (retrying cannot fix it); a failing
//!   table is an `Err`, so Lambda retries the asynchronous SNS invocation.

use std::collections::HashMap;
use std::sync::Arc;

use aws_lambda_events::sns::SnsEvent;
use lambda_runtime::{Error, LambdaEvent};
use orgs::domain::{InvitationId, MailProblem, MailProblemKind, Timestamp};
use orgs::mail::INVITATION_TAG;
use orgs::store::Store;
use orgs::{Clock, SystemClock};
use serde::Deserialize;

/// What the function holds for its lifetime.
pub struct FeedbackRecorder {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
}

impl FeedbackRecorder {
    pub async fn from_env() -> Result<Self, orgs::config::ConfigError> {
        Ok(Self { store: orgs::app::store_from_env()?, clock: Arc::new(SystemClock) })
    }
}

/// An SES notification: event publishing spells the kind `eventType`, identity notifications
/// `notificationType`; both carry `mail`, and `bounce` or `complaint`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Notification {
    #[serde(alias = "notificationType")]
    event_type: String,
    mail: Mail,
    #[serde(default)]
    bounce: Option<Bounce>,
    #[serde(default)]
    complaint: Option<Complaint>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Mail {
    message_id: String,
    #[serde(default)]
    tags: HashMap<String, Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Bounce {
    bounce_type: String,
    #[serde(default)]
    bounce_sub_type: Option<String>,
    #[serde(default)]
    bounced_recipients: Vec<Recipient>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Recipient {
    #[serde(default)]
    diagnostic_code: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Complaint {
    #[serde(default)]
    complaint_feedback_type: Option<String>,
}

/// What became of one notification (also the function's answer, for its log).
#[derive(Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Recorded(MailProblemKind),
    /// Already recorded, about an invitation that is gone, or a kind that needs nothing.
    Ignored,
}

pub async fn handle(
    recorder: &FeedbackRecorder,
    event: LambdaEvent<SnsEvent>,
) -> Result<Vec<Outcome>, Error> {
    let mut outcomes = Vec::new();
    for record in &event.payload.records {
        let notification = match serde_json::from_str::<Notification>(&record.sns.message) {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(message_id = %record.sns.message_id, error = %e, "unreadable SES notification dropped");
                outcomes.push(Outcome::Ignored);
                continue;
            }
        };
        outcomes.push(record_one(recorder, notification).await.map_err(|e| orgs::telemetry::chain(&e))?);
    }
    Ok(outcomes)
}

/// The problem a notification reports, if it is one worth recording.
fn problem_of(n: &Notification, now: Timestamp) -> Option<MailProblem> {
    let (kind, reason) = match n.event_type.as_str() {
        "Bounce" => {
            let bounce = n.bounce.as_ref()?;
            if bounce.bounce_type != "Permanent" {
                return None;
            }
            let diagnostic = bounce.bounced_recipients.iter().find_map(|r| r.diagnostic_code.clone());
            let sub_type = bounce.bounce_sub_type.clone().unwrap_or_else(|| "General".into());
            (MailProblemKind::Bounced, diagnostic.unwrap_or(format!("permanent bounce ({sub_type})")))
        }
        "Complaint" => {
            let feedback = n.complaint.as_ref().and_then(|c| c.complaint_feedback_type.clone());
            (MailProblemKind::Complained, format!("marked as {}", feedback.as_deref().unwrap_or("spam")))
        }
        _ => return None,
    };
    Some(MailProblem { kind, reason, at: now })
}

async fn record_one(recorder: &FeedbackRecorder, n: Notification) -> Result<Outcome, orgs::DomainError> {
    let now = Timestamp::from_datetime(recorder.clock.now());
    let Some(problem) = problem_of(&n, now) else {
        tracing::info!(message_id = %n.mail.message_id, event_type = %n.event_type, "SES notification needs nothing");
        return Ok(Outcome::Ignored);
    };
    let tagged = n.mail.tags.get(INVITATION_TAG).and_then(|values| values.first());
    let Some(id) = tagged.and_then(|t| InvitationId::parse(t).ok()) else {
        tracing::warn!(message_id = %n.mail.message_id, "SES notification names no invitation; ignored");
        return Ok(Outcome::Ignored);
    };
    let Some(invitation) = recorder.store.invitation(&id).await? else {
        return Ok(Outcome::Ignored);
    };
    if recorder.store.record_mail_problem(&invitation, &problem).await? {
        tracing::warn!(invitation_id = %id, kind = ?problem.kind, reason = %problem.reason, "invitation email did not arrive");
        Ok(Outcome::Recorded(problem.kind))
    } else {
        Ok(Outcome::Ignored)
    }
}
