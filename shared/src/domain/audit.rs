//! The audit log: one event per change, written in the same transaction as the change, so that
//! neither exists without the other. Events copy the people they name (id and email): they
//! outlive memberships and accounts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Email, InvitationId, OrgId, Timestamp, UserId};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventAction {
    OrganizationCreated,
    OrganizationRenamed,
    SettingsChanged,
    Invited,
    Resent,
    Revoked,
    Declined,
    Accepted,
    Removed,
    Left,
    RoleChanged,
    OwnershipTransferred,
    CloudAccountConfigured,
    ClusterCreated,
    /// A member asked a cluster to start, stop or terminate (`details.action`).
    ClusterActionRequested,
    /// A member opened (`details.open` = true) or closed a service port on a cluster.
    PortChanged,
    /// Credits were added (`details.credits`, `details.reason`): the trial of a new organization,
    /// or an operator's grant.
    CreditsGranted,
    /// The service stopped a running cluster because the organization had no credits left.
    ClusterStoppedForCredits,
    /// The service stopped a running cluster that had been idle for its `idle_stop_minutes`.
    ClusterStoppedIdle,
    /// An owner or admin revoked every node credential of a cluster (`details.nodes`: how many
    /// nodes were enrolled); the nodes enroll again.
    NodeCredentialsRevoked,
    /// An owner or admin made a service account (`details.service_account_id`, `details.name`).
    ServiceAccountCreated,
    /// An owner or admin deleted a service account and its keys (`details.keys_revoked`).
    ServiceAccountDeleted,
    /// An owner or admin made an API key for a service account (`details.key_id`,
    /// `details.scopes`, `details.expires_at`).
    ApiKeyCreated,
    /// An owner or admin revoked an API key (`details.key_id`).
    ApiKeyRevoked,
    /// An owner or admin registered a webhook endpoint (`details.webhook_id`, `details.url`,
    /// `details.events`).
    WebhookCreated,
    /// An owner or admin deleted a webhook endpoint (`details.webhook_id`, `details.url`).
    WebhookDeleted,
    /// An owner or admin made a webhook endpoint a new secret (`details.webhook_id`).
    WebhookSecretRotated,
    /// An owner or admin asked for a delivery again (`details.webhook_id`, `details.delivery_id`).
    WebhookRedelivered,
}

/// Who acted: a member (`{"user_id", "email"}`), a service account through one of its keys
/// (`{"service_account_id", "service_account", "key_id"}`), or the service itself
/// (`{"service": "credits"}`: the scheduled job, an operator's grant).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Actor {
    Member {
        user_id: UserId,
        email: Email,
    },
    ServiceAccount {
        service_account_id: super::ServiceAccountId,
        /// Its name when it acted.
        service_account: String,
        key_id: super::api_keys::KeyId,
    },
    Service {
        service: String,
    },
}

/// Who or what the action was about. Empty for changes to the organization itself.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Subject {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitation_id: Option<InvitationId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEvent {
    /// A UUIDv7: time-ordered to the millisecond (and, within one process, beyond), so that
    /// events of the same second keep the order they happened in.
    pub event_id: uuid::Uuid,
    pub org_id: OrgId,
    pub at: Timestamp,
    pub actor: Actor,
    pub action: EventAction,
    pub subject: Subject,
    /// The facts of this kind of event (`role`, `from`, `to`, `name`...), as text.
    pub details: BTreeMap<String, String>,
}

impl AuditEvent {
    pub fn new(org: OrgId, actor: Actor, action: EventAction, at: Timestamp) -> Self {
        Self {
            event_id: uuid::Uuid::now_v7(),
            org_id: org,
            at,
            actor,
            action,
            subject: Subject::default(),
            details: BTreeMap::new(),
        }
    }

    pub fn about_user(mut self, user: &UserId, email: &Email) -> Self {
        self.subject.user_id = Some(user.clone());
        self.subject.email = Some(email.clone());
        self
    }

    pub fn about_invitation(mut self, id: InvitationId, email: &Email) -> Self {
        self.subject.invitation_id = Some(id);
        self.subject.email = Some(email.clone());
        self
    }

    pub fn with(mut self, name: &str, value: impl ToString) -> Self {
        self.details.insert(name.to_owned(), value.to_string());
        self
    }
}
