//! The entities of the service and the rules that belong to them.

use serde::Serialize;

use super::audit::Actor;
use super::{
    DomainError, Email, InvitationId, InviteRole, OrgId, OrgName, Role, Settings, Timestamp, UserId,
};

/// A registered person. `email` is the identity provider's verified address.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct User {
    pub user_id: UserId,
    pub email: Email,
    pub personal_org_id: OrgId,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Organization {
    pub org_id: OrgId,
    pub name: String,
    pub owner_id: UserId,
    /// Created for its owner at registration.
    pub personal: bool,
    pub created_at: Timestamp,
    pub settings: Settings,
}

impl Organization {
    /// The organization every user gets when they register, named after them.
    pub fn personal_for(owner: &UserId, email: &Email, now: Timestamp) -> Self {
        Self {
            org_id: OrgId::new(),
            name: format!("{}'s organization", email.local_part()),
            owner_id: owner.clone(),
            personal: true,
            created_at: now,
            settings: Settings::default(),
        }
    }

    /// Another organization, created by `owner` with `POST /v1/organizations`.
    pub fn named(owner: &UserId, name: OrgName, now: Timestamp) -> Self {
        Self {
            org_id: OrgId::new(),
            name: name.into(),
            owner_id: owner.clone(),
            personal: false,
            created_at: now,
            settings: Settings::default(),
        }
    }
}

/// One user's membership of one organization, with what a dashboard shows about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Membership {
    pub org_id: OrgId,
    pub org_name: String,
    pub user_id: UserId,
    pub email: Email,
    pub role: Role,
    pub joined_at: Timestamp,
    /// Set when a service account's key acts, not a person: what it may do is the key's scopes
    /// ([`crate::domain::authz::may`]), and writes rest on the key, not on a member's role.
    #[serde(skip)]
    pub key: Option<super::api_keys::KeyUse>,
}

impl Membership {
    /// The member as the audit log names them when they act.
    pub fn actor(&self) -> Actor {
        match &self.key {
            Some(key) => Actor::ServiceAccount {
                service_account_id: key.service_account_id,
                service_account: key.service_account.clone(),
                key_id: key.key_id.clone(),
            },
            None => Actor::Member { user_id: self.user_id.clone(), email: self.email.clone() },
        }
    }

    /// The stand-in membership of a service account's key: the principal `sa:{id}` (what a
    /// cluster's `started_by` shows), the least role, and the key's scopes.
    pub fn of_key(org_name: String, key: super::api_keys::KeyUse) -> Self {
        let id = key.service_account_id;
        Self {
            org_id: key.org_id,
            org_name,
            user_id: UserId::of_service_account(&id),
            email: Email::of_service_account(&id),
            role: Role::Member,
            joined_at: key.created_at,
            key: Some(key),
        }
    }
}

/// A membership as the Members page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Member {
    pub user_id: UserId,
    pub email: Email,
    pub role: Role,
    pub joined_at: Timestamp,
}

impl From<&Membership> for Member {
    fn from(m: &Membership) -> Self {
        Self { user_id: m.user_id.clone(), email: m.email.clone(), role: m.role, joined_at: m.joined_at }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum InvitationStatus {
    Pending,
    Accepted,
    Declined,
    /// Withdrawn before it was answered: revoked, or its inviter was removed or demoted.
    Revoked,
    /// Pending past its expiry. Never stored: shown when a pending invitation's time is over.
    Expired,
}

/// Proof that the invitation email went out.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Delivery {
    pub message_id: String,
    pub sent_at: Timestamp,
}

/// Why the invitation email did not reach its addressee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailProblemKind {
    /// SES refused to send it, for good (the address or the sender is not acceptable).
    Undeliverable,
    /// The recipient's mail server refused it for good (a permanent bounce).
    Bounced,
    /// The recipient marked it as spam.
    Complained,
}

/// What became of an invitation email that did not arrive, as SES told it.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct MailProblem {
    pub kind: MailProblemKind,
    /// SES's own words (an error message or a bounce's diagnostic), safe to show the inviter.
    pub reason: String,
    pub at: Timestamp,
}

/// The invitation email's state, as the inviter sees it on the Members page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MailStatus {
    /// Not sent yet (the mailer is on its way, or retrying).
    Sending,
    Sent,
    Undeliverable,
    Bounced,
    Complained,
}

impl MailStatus {
    /// A problem outranks a send: a bounce arrives after the email went out.
    pub fn of(sent: bool, problem: Option<MailProblemKind>) -> Self {
        match (problem, sent) {
            (Some(MailProblemKind::Undeliverable), _) => Self::Undeliverable,
            (Some(MailProblemKind::Bounced), _) => Self::Bounced,
            (Some(MailProblemKind::Complained), _) => Self::Complained,
            (None, true) => Self::Sent,
            (None, false) => Self::Sending,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Invitation {
    pub invitation_id: InvitationId,
    pub org_id: OrgId,
    pub org_name: String,
    pub email: Email,
    pub role: InviteRole,
    pub invited_by: UserId,
    pub invited_by_email: Email,
    /// When a service account's key invited: the account's name (its email is a placeholder).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invited_by_service_account: Option<String>,
    /// The inviter's role when they invited: a plain member's invitation (`members_can_invite`)
    /// stands while they are a member, an owner's or admin's while they manage members.
    #[serde(skip)]
    pub inviter_role: Role,
    pub status: InvitationStatus,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// How many times the email was asked for: 1, plus one per resend.
    pub sends: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub responded_at: Option<Timestamp>,
    #[serde(skip)]
    pub delivery: Option<Delivery>,
    #[serde(skip)]
    pub mail_problem: Option<MailProblem>,
}

/// What the invite endpoint is asked for, once the inviter has been authorized.
#[derive(Debug, Clone)]
pub struct NewInvitation {
    pub email: Email,
    pub role: InviteRole,
}

impl Invitation {
    /// A fresh pending invitation from `inviter` (whose membership names the organization),
    /// answerable for the organization's invitation lifetime.
    pub fn issue(inviter: &Membership, request: NewInvitation, settings: &Settings, now: Timestamp) -> Self {
        Self {
            invitation_id: InvitationId::new(),
            org_id: inviter.org_id,
            org_name: inviter.org_name.clone(),
            email: request.email,
            role: request.role,
            invited_by: inviter.user_id.clone(),
            invited_by_email: inviter.email.clone(),
            invited_by_service_account: inviter.key.as_ref().map(|k| k.service_account.clone()),
            inviter_role: inviter.role,
            status: InvitationStatus::Pending,
            created_at: now,
            expires_at: now.plus(settings.invitation_ttl_days.duration()),
            sends: 1,
            responded_at: None,
            delivery: None,
            mail_problem: None,
        }
    }

    /// Whether the email went out, or why it did not arrive.
    pub fn mail_status(&self) -> MailStatus {
        MailStatus::of(self.delivery.is_some(), self.mail_problem.as_ref().map(|p| p.kind))
    }

    /// As a list shows it: a pending invitation past its time is `expired`.
    pub fn shown_at(mut self, now: Timestamp) -> Self {
        if self.status == InvitationStatus::Pending && self.is_expired(now) {
            self.status = InvitationStatus::Expired;
        }
        self
    }

    pub fn is_expired(&self, now: Timestamp) -> bool {
        self.expires_at <= now
    }

    /// Still pending and not expired: someone may still be invited to it (and it is shown).
    pub fn is_open(&self, now: Timestamp) -> bool {
        self.status == InvitationStatus::Pending && !self.is_expired(now)
    }

    /// Whether `email` may accept or decline this invitation now. Anyone it is not addressed to
    /// learns nothing (not found), and a revoked invitation is gone from its invitee's view too.
    pub fn check_answerable_by(&self, email: &Email, now: Timestamp) -> Result<(), DomainError> {
        if &self.email != email {
            return Err(DomainError::NotFound("invitation"));
        }
        match self.status {
            InvitationStatus::Pending if self.is_expired(now) => {
                Err(DomainError::Gone(format!("this invitation expired at {}", self.expires_at)))
            }
            InvitationStatus::Pending => Ok(()),
            InvitationStatus::Accepted => {
                Err(DomainError::Conflict("this invitation has already been accepted".into()))
            }
            InvitationStatus::Declined => {
                Err(DomainError::Conflict("this invitation has already been declined".into()))
            }
            InvitationStatus::Revoked | InvitationStatus::Expired => Err(DomainError::NotFound("invitation")),
        }
    }
}

impl Invitation {
    /// Whether it may still be withdrawn: only while pending (expired ones too). An answered one
    /// stays answered; a revoked one is gone.
    pub fn check_revocable(&self) -> Result<(), DomainError> {
        match self.status {
            InvitationStatus::Pending => Ok(()),
            InvitationStatus::Accepted => {
                Err(DomainError::Conflict("this invitation has already been accepted".into()))
            }
            InvitationStatus::Declined => {
                Err(DomainError::Conflict("this invitation has already been declined".into()))
            }
            InvitationStatus::Revoked | InvitationStatus::Expired => Err(DomainError::NotFound("invitation")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;
    use time::macros::datetime;

    fn inviter() -> Result<Membership, DomainError> {
        Ok(Membership {
            org_id: OrgId::new(),
            org_name: "alice's organization".into(),
            user_id: UserId::parse("alice-sub")?,
            email: Email::parse("alice@example.com")?,
            role: Role::Owner,
            joined_at: now(),
            key: None,
        })
    }

    fn now() -> Timestamp {
        Timestamp::from_datetime(datetime!(2026-11-28 12:00 UTC))
    }

    fn invitation_for(email: &str) -> Result<Invitation, DomainError> {
        let request = NewInvitation { email: Email::parse(email)?, role: InviteRole::Member };
        Ok(Invitation::issue(&inviter()?, request, &Settings::default(), now()))
    }

    #[test]
    fn an_invitation_expires_after_seven_days_by_default() -> Result<(), DomainError> {
        let inv = invitation_for("bob@example.com")?;
        assert_eq!(inv.expires_at.to_rfc3339(), "2026-12-05T12:00:00Z");
        assert!(!inv.is_expired(now().plus(Duration::days(7) - Duration::seconds(1))));
        assert!(inv.is_expired(now().plus(Duration::days(7))));
        Ok(())
    }

    #[test]
    fn only_the_invited_email_may_answer_and_others_see_nothing() -> Result<(), DomainError> {
        let inv = invitation_for("bob@example.com")?;
        let bob = Email::parse("bob@example.com")?;
        let carol = Email::parse("carol@example.com")?;
        assert!(inv.check_answerable_by(&bob, now()).is_ok());
        assert!(matches!(inv.check_answerable_by(&carol, now()), Err(DomainError::NotFound(_))));
        Ok(())
    }

    #[test]
    fn an_answered_invitation_conflicts_and_an_expired_one_is_gone() -> Result<(), DomainError> {
        let bob = Email::parse("bob@example.com")?;
        let mut inv = invitation_for("bob@example.com")?;
        let later = now().plus(Duration::days(8));
        assert!(matches!(inv.check_answerable_by(&bob, later), Err(DomainError::Gone(_))));
        inv.status = InvitationStatus::Accepted;
        assert!(matches!(inv.check_answerable_by(&bob, now()), Err(DomainError::Conflict(_))));
        inv.status = InvitationStatus::Revoked;
        assert!(matches!(inv.check_answerable_by(&bob, now()), Err(DomainError::NotFound(_))));
        Ok(())
    }

    #[test]
    fn a_personal_organization_is_named_after_its_owner() -> Result<(), DomainError> {
        let owner = UserId::parse("alice-sub")?;
        let email = Email::parse("alice@example.com")?;
        let org = Organization::personal_for(&owner, &email, now());
        assert_eq!(org.name, "alice's organization");
        assert!(org.personal);
        assert_eq!(org.owner_id, owner);
        Ok(())
    }
}
