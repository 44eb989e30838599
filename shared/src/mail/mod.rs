//! The invitation email and the SES mailer that sends it.

use aws_sdk_ses::Client;
use aws_sdk_ses::types::{Body, Content, Destination, Message};

use crate::domain::{DomainError, Invitation};

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
    let subject = format!("{} invited you to join {}", inv.invited_by_email, inv.org_name);
    let text = format!(
        "{inviter} invited you to join the organization \"{org}\" as {role}.\n\n\
         Members share the organization's cloud account and clusters.\n\n\
         Accept or decline on your dashboard: {link}\n\n\
         This invitation expires on {expires}.\n",
        inviter = inv.invited_by_email,
        org = inv.org_name,
    );
    let html = format!(
        "<p>{inviter} invited you to join the organization <strong>{org}</strong> as {role}.</p>\
         <p>Members share the organization's cloud account and clusters.</p>\
         <p><a href=\"{link}\">Accept or decline on your dashboard</a></p>\
         <p>This invitation expires on {expires}.</p>",
        inviter = escape(inv.invited_by_email.as_str()),
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

/// Sends through SES from one verified sender.
#[derive(Debug, Clone)]
pub struct SesMailer {
    client: Client,
    sender: String,
}

impl SesMailer {
    pub fn new(client: Client, sender: impl Into<String>) -> Self {
        Self { client, sender: sender.into() }
    }

    /// Sends and returns SES's message id.
    pub async fn send(&self, email: &OutgoingEmail) -> Result<String, DomainError> {
        let content = |data: &str| {
            Content::builder()
                .data(data)
                .charset("UTF-8")
                .build()
                .map_err(|e| DomainError::unavailable("building an SES request", e))
        };
        let message = Message::builder()
            .subject(content(&email.subject)?)
            .body(Body::builder().text(content(&email.text)?).html(content(&email.html)?).build())
            .build();
        let out = self
            .client
            .send_email()
            .source(&self.sender)
            .destination(Destination::builder().to_addresses(&email.to).build())
            .message(message)
            .send()
            .await
            .map_err(|e| DomainError::unavailable("SES SendEmail", e))?;
        Ok(out.message_id)
    }
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
        };
        let request = NewInvitation { email: Email::parse("bob@example.com")?, role: InviteRole::Admin };
        let inv = Invitation::issue(&inviter, request, inviter.joined_at);
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
