//! The stored shape of each item. Private to the store: the rest of the crate sees domain types.
//! Every field is required unless the item really may lack it; a missing field is a corrupt item,
//! never a default.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use super::keys;
use crate::domain::{
    Delivery, DomainError, Email, Invitation, InvitationId, InvitationStatus, InviteRole, MailProblem,
    MailStatus, Membership, OrgId, Organization, PendingInvitation, Role, Timestamp, User, UserId,
};

pub type Item = HashMap<String, AttributeValue>;

/// Answered and expired invitations stay readable this long after they expire, then TTL removes them.
const INVITATION_RETENTION: time::Duration = time::Duration::days(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    User,
    Org,
    Member,
    Email,
    Invitation,
}

impl Entity {
    /// The stored spelling, the same as serde's.
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::User => "user",
            Entity::Org => "org",
            Entity::Member => "member",
            Entity::Email => "email",
            Entity::Invitation => super::schema::ENTITY_INVITATION,
        }
    }
}

/// The kind of a stored item, read from one attribute before deserializing the rest.
pub fn entity_of(item: &Item) -> Option<Entity> {
    let name = item.get(super::schema::ENTITY).and_then(|v| v.as_s().ok())?;
    [Entity::User, Entity::Org, Entity::Member, Entity::Email, Entity::Invitation]
        .into_iter()
        .find(|e| e.as_str() == name)
}

pub fn to_item<T: Serialize>(value: &T) -> Result<Item, DomainError> {
    serde_dynamo::to_item(value).map_err(|e| DomainError::Corrupt(format!("cannot encode item: {e}")))
}

pub fn from_item<T: for<'de> Deserialize<'de>>(item: Item) -> Result<T, DomainError> {
    let pk = item.get(super::schema::PK).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
    serde_dynamo::from_item(item).map_err(|e| DomainError::Corrupt(format!("item {pk}: {e}")))
}

#[derive(Debug, Serialize, Deserialize)]
pub struct UserItem {
    pub pk: String,
    pub sk: String,
    pub entity: Entity,
    pub user_id: UserId,
    pub email: Email,
    pub personal_org_id: OrgId,
    pub created_at: Timestamp,
}

impl From<&User> for UserItem {
    fn from(u: &User) -> Self {
        Self {
            pk: keys::user_pk(&u.user_id),
            sk: keys::USER_SK.into(),
            entity: Entity::User,
            user_id: u.user_id.clone(),
            email: u.email.clone(),
            personal_org_id: u.personal_org_id,
            created_at: u.created_at,
        }
    }
}

impl From<UserItem> for User {
    fn from(i: UserItem) -> Self {
        Self {
            user_id: i.user_id,
            email: i.email,
            personal_org_id: i.personal_org_id,
            created_at: i.created_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct OrgItem {
    pub pk: String,
    pub sk: String,
    pub entity: Entity,
    pub org_id: OrgId,
    pub name: String,
    pub owner_id: UserId,
    pub personal: bool,
    pub created_at: Timestamp,
}

impl From<&Organization> for OrgItem {
    fn from(o: &Organization) -> Self {
        Self {
            pk: keys::org_pk(&o.org_id),
            sk: keys::ORG_SK.into(),
            entity: Entity::Org,
            org_id: o.org_id,
            name: o.name.clone(),
            owner_id: o.owner_id.clone(),
            personal: o.personal,
            created_at: o.created_at,
        }
    }
}

impl From<OrgItem> for Organization {
    fn from(i: OrgItem) -> Self {
        Self {
            org_id: i.org_id,
            name: i.name,
            owner_id: i.owner_id,
            personal: i.personal,
            created_at: i.created_at,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct MemberItem {
    pub pk: String,
    pub sk: String,
    pub entity: Entity,
    pub org_id: OrgId,
    pub org_name: String,
    pub user_id: UserId,
    pub email: Email,
    pub role: Role,
    pub joined_at: Timestamp,
    pub gsi1pk: String,
    pub gsi1sk: String,
}

impl From<&Membership> for MemberItem {
    fn from(m: &Membership) -> Self {
        Self {
            pk: keys::org_pk(&m.org_id),
            sk: keys::member_sk(&m.user_id),
            entity: Entity::Member,
            org_id: m.org_id,
            org_name: m.org_name.clone(),
            user_id: m.user_id.clone(),
            email: m.email.clone(),
            role: m.role,
            joined_at: m.joined_at,
            gsi1pk: keys::member_gsi_pk(&m.user_id),
            gsi1sk: keys::org_pk(&m.org_id),
        }
    }
}

impl From<MemberItem> for Membership {
    fn from(i: MemberItem) -> Self {
        Self {
            org_id: i.org_id,
            org_name: i.org_name,
            user_id: i.user_id,
            email: i.email,
            role: i.role,
            joined_at: i.joined_at,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlotState {
    Invited,
    Member,
}

/// Which of an email's two states it holds in one organization.
#[derive(Debug, Serialize, Deserialize)]
pub struct EmailSlotItem {
    pub pk: String,
    pub sk: String,
    pub entity: Entity,
    pub email: Email,
    pub state: SlotState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitation: Option<SlotInvitation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<i64>,
}

/// What the Members page shows of a pending invitation, kept on the slot so that one query of the
/// organization's partition answers the whole page.
#[derive(Debug, Serialize, Deserialize)]
pub struct SlotInvitation {
    pub invitation_id: InvitationId,
    pub role: InviteRole,
    pub invited_by: UserId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// When the email went out, copied here by the mailer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<Timestamp>,
    /// Why the email did not arrive, copied here by the mailer or the feedback handler.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail_problem: Option<MailProblem>,
}

impl EmailSlotItem {
    pub fn member(org: &OrgId, user: &UserId, email: &Email) -> Self {
        Self {
            pk: keys::org_pk(org),
            sk: keys::email_slot_sk(email),
            entity: Entity::Email,
            email: email.clone(),
            state: SlotState::Member,
            user_id: Some(user.clone()),
            invitation: None,
            ttl: None,
        }
    }

    /// The slot of a pending invitation. It ages out a day after the invitation expires; until
    /// then the invite condition treats an expired slot as free.
    pub fn invited(inv: &Invitation) -> Self {
        Self {
            pk: keys::org_pk(&inv.org_id),
            sk: keys::email_slot_sk(&inv.email),
            entity: Entity::Email,
            email: inv.email.clone(),
            state: SlotState::Invited,
            user_id: None,
            invitation: Some(SlotInvitation {
                invitation_id: inv.invitation_id,
                role: inv.role,
                invited_by: inv.invited_by.clone(),
                created_at: inv.created_at,
                expires_at: inv.expires_at,
                sent_at: None,
                mail_problem: None,
            }),
            ttl: Some(inv.expires_at.plus(time::Duration::days(1)).unix()),
        }
    }

    pub fn pending_invitation(self, now: Timestamp) -> Option<PendingInvitation> {
        let inv = self.invitation.filter(|_| self.state == SlotState::Invited)?;
        (inv.expires_at > now).then_some(PendingInvitation {
            invitation_id: inv.invitation_id,
            email: self.email,
            role: inv.role,
            invited_by: inv.invited_by,
            created_at: inv.created_at,
            expires_at: inv.expires_at,
            mail: MailStatus::of(inv.sent_at.is_some(), inv.mail_problem.as_ref().map(|p| p.kind)),
            mail_problem: inv.mail_problem.map(|p| p.reason),
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct InvitationItem {
    pub pk: String,
    pub sk: String,
    pub entity: Entity,
    pub invitation_id: InvitationId,
    pub org_id: OrgId,
    pub org_name: String,
    pub email: Email,
    pub role: InviteRole,
    pub invited_by: UserId,
    pub invited_by_email: Email,
    pub status: InvitationStatus,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responded_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<Delivery>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail_problem: Option<MailProblem>,
    /// Present only while pending: the dashboard's index of open invitations is sparse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi1pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi1sk: Option<String>,
    pub ttl: i64,
}

impl From<&Invitation> for InvitationItem {
    fn from(inv: &Invitation) -> Self {
        let pending = inv.status == InvitationStatus::Pending;
        Self {
            pk: keys::invitation_pk(&inv.invitation_id),
            sk: keys::INVITATION_SK.into(),
            entity: Entity::Invitation,
            invitation_id: inv.invitation_id,
            org_id: inv.org_id,
            org_name: inv.org_name.clone(),
            email: inv.email.clone(),
            role: inv.role,
            invited_by: inv.invited_by.clone(),
            invited_by_email: inv.invited_by_email.clone(),
            status: inv.status,
            created_at: inv.created_at,
            expires_at: inv.expires_at,
            responded_at: inv.responded_at,
            delivery: inv.delivery.clone(),
            mail_problem: inv.mail_problem.clone(),
            gsi1pk: pending.then(|| keys::invitation_gsi_pk(&inv.email)),
            gsi1sk: pending.then(|| format!("INVITATION#{}#{}", inv.created_at, inv.invitation_id)),
            ttl: inv.expires_at.plus(INVITATION_RETENTION).unix(),
        }
    }
}

impl From<InvitationItem> for Invitation {
    fn from(i: InvitationItem) -> Self {
        Self {
            invitation_id: i.invitation_id,
            org_id: i.org_id,
            org_name: i.org_name,
            email: i.email,
            role: i.role,
            invited_by: i.invited_by,
            invited_by_email: i.invited_by_email,
            status: i.status,
            created_at: i.created_at,
            expires_at: i.expires_at,
            responded_at: i.responded_at,
            delivery: i.delivery,
            mail_problem: i.mail_problem,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_entity_names_are_serdes_names() -> Result<(), serde_json::Error> {
        for entity in [Entity::User, Entity::Org, Entity::Member, Entity::Email, Entity::Invitation] {
            assert_eq!(serde_json::to_value(entity)?, entity.as_str());
            let item = Item::from([(
                super::super::schema::ENTITY.to_owned(),
                AttributeValue::S(entity.as_str().into()),
            )]);
            assert_eq!(entity_of(&item), Some(entity));
        }
        Ok(())
    }
}
