//! The invitation email, the [`Mailer`] seam, and the SES mailer behind it.

use std::future::Future;
use std::pin::Pin;

use aws_sdk_ses::Client;
use aws_sdk_ses::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ses::operation::send_email::SendEmailError;
use aws_sdk_ses::types::{Body, Content, Destination, Message, MessageTag};

use crate::domain::{DomainError, Invitation};

/// The SES message tag that carries the invitation id, so that a bounce or complaint published
/// by the configuration set names the invitation it is about.
pub const INVITATION_TAG: &str = "invitation_id";

/// Why an email was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// SES refused this message for good (the address, or the sender): sending it again cannot
    /// help. SES's words, safe to show the inviter.
    #[error("rejected: {0}")]
    Rejected(String),
    /// Anything else: SES throttled, was unreachable, or the deployment is misconfigured. The
    /// record is retried.
    #[error(transparent)]
    Failed(#[from] DomainError),
}

/// Sends email. SES in production; a test puts a mailer that fails on purpose in front of it.
pub trait Mailer: Send + Sync {
    /// Sends and returns the provider's message id. `tag` is the invitation the email is about.
    fn send<'a>(
        &'a self,
        email: &'a OutgoingEmail,
        tag: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<String, SendError>> + Send + 'a>>;
}

/// An email ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingEmail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The invitation email: who invited, to which organization, with which role, until when, and
/// where to answer.
pub fn invitation_email(inv: &Invitation, dashboard_url: &str) -> OutgoingEmail {
    let role = match inv.role {
        crate::domain::InviteRole::Admin => "an admin",
        crate::domain::InviteRole::Member => "a member",
    };
    let expires = inv.expires_at.datetime();
    let expires = format!(
        "{} {} {} at {:02}:{:02} UTC",
        expires.day(),
        expires.month(),
        expires.year(),
        expires.hour(),
        expires.minute()
    );
    let link = format!("{}/invitations/{}", dashboard_url.trim_end_matches('/'), inv.invitation_id);
    // A service account has no address of its own: it is named as the organization's.
    let inviter = match &inv.invited_by_service_account {
        Some(name) => format!("{}'s service account \"{name}\"", inv.org_name),
        None => inv.invited_by_email.to_string(),
    };
    let subject = format!("{inviter} invited you to join {}", inv.org_name);
    let text = format!(
        "{inviter} invited you to join the organization \"{org}\" as {role}.\n\n\
         Members share the organization's cloud account and clusters.\n\n\
         Accept or decline on your dashboard: {link}\n\n\
         This invitation expires on {expires}.\n",
        org = inv.org_name,
    );
    let html = format!(
        "<p>{inviter} invited you to join the organization <strong>{org}</strong> as {role}.</p>\
         <p>Members share the organization's cloud account and clusters.</p>\
         <p><a href=\"{link}\">Accept or decline on your dashboard</a></p>\
         <p>This invitation expires on {expires}.</p>",
        inviter = escape(&inviter),
        org = escape(&inv.org_name),
        link = escape(&link),
    );
    OutgoingEmail { to: inv.email.to_string(), subject, text, html }
}

fn escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '&' => "&amp;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// SES error codes that refuse the message itself: sending it again cannot help.
const REJECTIONS: &[&str] =
    &["MessageRejected", "MailFromDomainNotVerifiedException", "InvalidParameterValue"];

/// Sends through SES from one verified sender, through a configuration set that publishes
/// bounces and complaints (when one is configured).
#[derive(Debug, Clone)]
pub struct SesMailer {
    client: Client,
    sender: String,
    configuration_set: Option<String>,
}

impl SesMailer {
    pub fn new(client: Client, sender: impl Into<String>, configuration_set: Option<String>) -> Self {
        Self { client, sender: sender.into(), configuration_set }
    }

    async fn send_email(&self, email: &OutgoingEmail, tag: &str) -> Result<String, SendError> {
        let content = |data: &str| {
            Content::builder()
                .data(data)
                .charset("UTF-8")
                .build()
                .map_err(|e| DomainError::failed("building an SES request", e))
        };
        let message = Message::builder()
            .subject(content(&email.subject)?)
            .body(Body::builder().text(content(&email.text)?).html(content(&email.html)?).build())
            .build();
        let tag = MessageTag::builder()
            .name(INVITATION_TAG)
            .value(tag)
            .build()
            .map_err(|e| DomainError::failed("building an SES request", e))?;
        let result = self
            .client
            .send_email()
            .source(&self.sender)
            .destination(Destination::builder().to_addresses(&email.to).build())
            .message(message)
            .tags(tag)
            .set_configuration_set_name(self.configuration_set.clone())
            .send()
            .await;
        match result {
            Ok(out) => Ok(out.message_id),
            Err(e) => Err(classify(e)),
        }
    }
}

impl Mailer for SesMailer {
    fn send<'a>(
        &'a self,
        email: &'a OutgoingEmail,
        tag: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<String, SendError>> + Send + 'a>> {
        Box::pin(self.send_email(email, tag))
    }
}

fn classify(
    e: SdkError<SendEmailError, aws_smithy_runtime_api::client::orchestrator::HttpResponse>,
) -> SendError {
    if let SdkError::ServiceError(service) = &e
        && service.err().code().is_some_and(|code| REJECTIONS.contains(&code))
    {
        let reason = service.err().message().unwrap_or("SES rejected the message").to_owned();
        return SendError::Rejected(reason);
    }
    SendError::Failed(crate::aws::failure("SES SendEmail", e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Email, InviteRole, Membership, NewInvitation, OrgId, Role, Timestamp, UserId};
    use time::macros::datetime;

    #[test]
    fn the_email_names_org_inviter_role_expiry_and_link() -> Result<(), crate::domain::DomainError> {
        let inviter = Membership {
            org_id: OrgId::new(),
            org_name: "Acme <Data>".into(),
            user_id: UserId::parse("alice")?,
            email: Email::parse("alice@example.com")?,
            role: Role::Owner,
            joined_at: Timestamp::from_datetime(datetime!(2026-11-28 12:00 UTC)),
            key: None,
        };
        let request = NewInvitation { email: Email::parse("bob@example.com")?, role: InviteRole::Admin };
        let inv =
            Invitation::issue(&inviter, request, &crate::domain::Settings::default(), inviter.joined_at);
        let mail = invitation_email(&inv, "https://app.example.com/");
        assert_eq!(mail.to, "bob@example.com");
        assert_eq!(mail.subject, "alice@example.com invited you to join Acme <Data>");
        assert!(mail.text.contains("as an admin"));
        assert!(mail.text.contains("5 December 2026 at 12:00 UTC"));
        assert!(mail.text.contains(&format!("https://app.example.com/invitations/{}", inv.invitation_id)));
        assert!(mail.html.contains("Acme &lt;Data&gt;"), "HTML must be escaped: {}", mail.html);
        Ok(())
    }
}
