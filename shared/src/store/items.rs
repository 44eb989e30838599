//! The stored shape of each item. Private to the store: the rest of the crate sees domain types.
//! Every field is required unless the item really may lack it; a missing field is a corrupt item,
//! never a default.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use super::keys;
use crate::domain::{
    AuditEvent, Delivery, DomainError, Email, Invitation, InvitationId, InvitationStatus, InviteRole,
    MailProblem, Membership, OrgId, Organization, Role, Settings, Timestamp, User, UserId,
};

pub type Item = HashMap<String, AttributeValue>;

/// Answered and expired invitations stay readable this long after they expire, then TTL removes them.
const INVITATION_RETENTION: time::Duration = time::Duration::days(30);

/// When TTL may remove an invitation that expires at `expires_at`.
pub fn invitation_ttl(expires_at: Timestamp) -> i64 {
    expires_at.plus(INVITATION_RETENTION).unix()
}

/// Audit events are kept at least this long (TTL removes them some time after).
const EVENT_RETENTION: time::Duration = time::Duration::days(400);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    User,
    Org,
    Member,
    Email,
    Invitation,
    Event,
    RateLog,
    CloudAccount,
    Cluster,
    Credits,
    Usage,
    ClusterUser,
    Revision,
    /// An enrolled node of a managed cluster: its nonce, credential and last heartbeat.
    Node,
    /// Where the scheduled job's last run stopped.
    Position,
    /// A user's Linux account in an organization, the login it takes, the next uid.
    LinuxAccount,
    Login,
    UidCounter,
    /// A person's SSH public keys.
    SshKeys,
    /// An organization's service accounts and their API keys.
    ServiceAccounts,
    /// An organization's webhook endpoints.
    Webhooks,
    /// One event's delivery to one endpoint: its body, status and attempts.
    WebhookDelivery,
    /// How many requests an API key made in one clock minute.
    KeyRate,
}

impl Entity {
    pub const ALL: [Entity; 23] = [
        Entity::User,
        Entity::Org,
        Entity::Member,
        Entity::Email,
        Entity::Invitation,
        Entity::Event,
        Entity::RateLog,
        Entity::CloudAccount,
        Entity::Cluster,
        Entity::Credits,
        Entity::Usage,
        Entity::ClusterUser,
        Entity::Revision,
        Entity::Node,
        Entity::Position,
        Entity::LinuxAccount,
        Entity::Login,
        Entity::UidCounter,
        Entity::SshKeys,
        Entity::ServiceAccounts,
        Entity::Webhooks,
        Entity::WebhookDelivery,
        Entity::KeyRate,
    ];

    /// The stored spelling, the same as serde's.
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::User => "user",
            Entity::Org => "org",
            Entity::Member => "member",
            Entity::Email => "email",
            Entity::Invitation => "invitation",
            Entity::Event => "event",
            Entity::RateLog => "rate_log",
            Entity::CloudAccount => "cloud_account",
            Entity::Cluster => "cluster",
            Entity::Credits => "credits",
            Entity::Usage => "usage",
            Entity::ClusterUser => "cluster_user",
            Entity::Revision => "revision",
            Entity::Node => "node",
            Entity::Position => "position",
            Entity::LinuxAccount => "linux_account",
            Entity::Login => "login",
            Entity::UidCounter => "uid_counter",
            Entity::SshKeys => "ssh_keys",
            Entity::ServiceAccounts => "service_accounts",
            Entity::Webhooks => "webhooks",
            Entity::WebhookDelivery => "webhook_delivery",
            Entity::KeyRate => "key_rate",
        }
    }
}

/// The kind of a stored item, read from one attribute before deserializing the rest.
pub fn entity_of(item: &Item) -> Option<Entity> {
    let name = item.get(super::schema::ENTITY).and_then(|v| v.as_s().ok())?;
    Entity::ALL.into_iter().find(|e| e.as_str() == name)
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
    /// How many organizations the user owns, kept by every write that changes it so that the
    /// per-user limit is one condition. Users registered before it was kept own one: their own.
    #[serde(default = "one")]
    pub owned_orgs: u32,
}

fn one() -> u32 {
    1
}

fn manager() -> Role {
    Role::Admin
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
            owned_orgs: 1,
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
    /// Organizations created before settings existed have the defaults every organization
    /// starts with, which is what they had in effect.
    #[serde(default)]
    pub settings: Settings,
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
            settings: o.settings,
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
            settings: i.settings,
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
            key: None,
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

/// The pending invitation a slot holds: enough to find who sent what without reading the
/// invitations themselves (a removal withdraws the removed member's).
#[derive(Debug, Serialize, Deserialize)]
pub struct SlotInvitation {
    pub invitation_id: InvitationId,
    pub role: InviteRole,
    pub invited_by: UserId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
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
            }),
            ttl: Some(slot_ttl(inv.expires_at)),
        }
    }

    /// The invitation the slot holds, while it is open: its id and address.
    pub fn open_invitation(self, now: Timestamp) -> Option<(InvitationId, Email)> {
        let inv = self.invitation.filter(|_| self.state == SlotState::Invited)?;
        (inv.expires_at > now).then_some((inv.invitation_id, self.email))
    }
}

/// When TTL may remove the slot of an invitation that expires at `expires_at`.
pub fn slot_ttl(expires_at: Timestamp) -> i64 {
    expires_at.plus(time::Duration::days(1)).unix()
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invited_by_service_account: Option<String>,
    /// Invitations written before this was kept were all sent by owners and admins.
    #[serde(default = "manager")]
    pub inviter_role: Role,
    pub status: InvitationStatus,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// Invitations written before resending existed were sent once.
    #[serde(default = "one")]
    pub sends: u32,
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
    /// The organization's invitations, newest first, whatever their status.
    pub gsi2pk: String,
    pub gsi2sk: String,
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
            invited_by_service_account: inv.invited_by_service_account.clone(),
            inviter_role: inv.inviter_role,
            status: inv.status,
            created_at: inv.created_at,
            expires_at: inv.expires_at,
            sends: inv.sends,
            responded_at: inv.responded_at,
            delivery: inv.delivery.clone(),
            mail_problem: inv.mail_problem.clone(),
            gsi1pk: pending.then(|| keys::invitation_gsi_pk(&inv.email)),
            gsi1sk: pending.then(|| keys::invitation_gsi_sk(inv.created_at, &inv.invitation_id)),
            gsi2pk: keys::org_invitations_gsi_pk(&inv.org_id),
            gsi2sk: keys::org_invitations_gsi_sk(inv.created_at, &inv.invitation_id),
            ttl: invitation_ttl(inv.expires_at),
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
            invited_by_service_account: i.invited_by_service_account,
            inviter_role: i.inviter_role,
            status: i.status,
            created_at: i.created_at,
            expires_at: i.expires_at,
            sends: i.sends,
            responded_at: i.responded_at,
            delivery: i.delivery,
            mail_problem: i.mail_problem,
        }
    }
}

/// One audit event, in its organization's event partition, newest last by key.
#[derive(Debug, Serialize, Deserialize)]
pub struct EventItem {
    pub pk: String,
    pub sk: String,
    pub entity: Entity,
    #[serde(flatten)]
    pub event: AuditEvent,
    pub ttl: i64,
}

impl From<&AuditEvent> for EventItem {
    fn from(e: &AuditEvent) -> Self {
        Self {
            pk: keys::events_pk(&e.org_id),
            sk: keys::event_sk(e.at, &e.event_id),
            entity: Entity::Event,
            event: e.clone(),
            ttl: e.at.plus(EVENT_RETENTION).unix(),
        }
    }
}

/// An organization's cloud account: the external id (made on first read, then never changed) and,
/// once verified, the configuration.
#[derive(Debug, Serialize, Deserialize)]
pub struct CloudAccountItem {
    pub pk: String,
    pub sk: String,
    pub entity: Entity,
    pub org_id: OrgId,
    pub external_id: crate::domain::ExternalId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<crate::domain::CloudAccount>,
    /// Clusters created in this account and not yet terminated: while any exist, the account
    /// does not change.
    #[serde(default)]
    pub live_clusters: u32,
}

/// One cluster, in its organization's partition.
#[derive(Debug, Serialize, Deserialize)]
pub struct ClusterItem {
    pub pk: String,
    pub sk: String,
    pub entity: Entity,
    #[serde(flatten)]
    pub cluster: crate::domain::Cluster,
    /// Present while the cluster lives: the reconciler's index of every live cluster (sparse).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi1pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi1sk: Option<String>,
}

impl From<&crate::domain::Cluster> for ClusterItem {
    fn from(c: &crate::domain::Cluster) -> Self {
        let live = c.state.is_live();
        Self {
            pk: keys::org_pk(&c.org_id),
            sk: keys::cluster_sk(&c.cluster_id),
            entity: Entity::Cluster,
            cluster: c.clone(),
            gsi1pk: live.then(|| keys::LIVE_CLUSTERS.to_owned()),
            gsi1sk: live.then(|| format!("{}#{}", c.org_id, c.cluster_id)),
        }
    }
}

/// An interval a cluster ran, in the organization's usage partition, keyed by when it ended.
#[derive(Debug, Serialize, Deserialize)]
pub struct UsageItem {
    pub pk: String,
    pub sk: String,
    pub entity: Entity,
    #[serde(flatten)]
    pub interval: crate::domain::UsageInterval,
}

impl From<&crate::domain::UsageInterval> for UsageItem {
    fn from(u: &crate::domain::UsageInterval) -> Self {
        Self {
            pk: keys::usage_pk(&u.org_id),
            sk: keys::usage_sk(u.to, &u.cluster_id, u.from),
            entity: Entity::Usage,
            interval: u.clone(),
        }
    }
}

/// Where the scheduled job's last run stopped in the live-cluster index: the next run starts after
/// `after` (the index's sort key of the last cluster visited).
#[derive(Debug, Serialize, Deserialize)]
pub struct PositionItem {
    pub pk: String,
    pub sk: String,
    pub entity: Entity,
    pub after: String,
    pub at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_entity_names_are_serdes_names() -> Result<(), serde_json::Error> {
        for entity in Entity::ALL {
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
