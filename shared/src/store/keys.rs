//! Key builders: the only place that knows how keys are spelled.

use crate::domain::{Email, InvitationId, OrgId, Timestamp, UserId};

pub fn user_pk(user: &UserId) -> String {
    format!("USER#{user}")
}
pub const USER_SK: &str = "USER";
/// A person's SSH public keys, on their user partition.
pub const SSH_KEYS_SK: &str = "SSHKEYS";

pub fn org_pk(org: &OrgId) -> String {
    format!("ORG#{org}")
}
pub const ORG_SK: &str = "ORG";

pub fn member_sk(user: &UserId) -> String {
    format!("{MEMBER_PREFIX}{user}")
}
/// The sort keys of an organization's memberships begin with this.
pub const MEMBER_PREFIX: &str = "MEMBER#";

/// The per-organization slot of an email address: "invited" or "member". It is what makes "one
/// pending invitation per org and email" and "not already a member" a single condition.
pub fn email_slot_sk(email: &Email) -> String {
    format!("EMAIL#{email}")
}

pub fn invitation_pk(id: &InvitationId) -> String {
    format!("{INVITATION_PREFIX}{id}")
}
/// Invitations' partition keys begin with this.
pub const INVITATION_PREFIX: &str = "INVITATION#";

/// GSI1 sort key of a pending invitation: oldest first among an address's invitations.
pub fn invitation_gsi_sk(created_at: Timestamp, id: &InvitationId) -> String {
    format!("{INVITATION_PREFIX}{created_at}#{id}")
}

/// GSI2 sort key of an invitation: its organization's list, oldest first.
pub fn org_invitations_gsi_sk(created_at: Timestamp, id: &InvitationId) -> String {
    format!("{created_at}#{id}")
}
pub const INVITATION_SK: &str = "INVITATION";

/// GSI key of a user's memberships.
pub fn member_gsi_pk(user: &UserId) -> String {
    user_pk(user)
}

/// GSI key of the pending invitations addressed to an email.
pub fn invitation_gsi_pk(email: &Email) -> String {
    format!("EMAIL#{email}")
}

pub const CLOUD_ACCOUNT_SK: &str = "CLOUD_ACCOUNT";

/// An organization's service accounts and their keys.
pub const SERVICE_ACCOUNTS_SK: &str = "SERVICE_ACCOUNTS";

/// The count of an API key's requests in the clock minute starting at `minute` (Unix seconds).
pub fn key_rate_sk(key_id: &crate::domain::api_keys::KeyId, minute: i64) -> String {
    format!("KEY_RATE#{key_id}#{minute}")
}

/// An organization's webhook endpoints.
pub const WEBHOOKS_SK: &str = "WEBHOOKS";

/// One delivery to an endpoint, on the organization's partition: an endpoint's deliveries sort by
/// `delivery_id`, the stream's sequence number of the change, zero-padded.
pub fn webhook_delivery_sk(webhook: &crate::domain::WebhookId, delivery_id: &str) -> String {
    format!("{}{webhook}#{delivery_id}", WEBHOOK_DELIVERY_PREFIX)
}
pub const WEBHOOK_DELIVERY_PREFIX: &str = "WEBHOOK_DELIVERY#";

/// GSI2 key of every delivery waiting for an attempt (sparse: a delivered or failed one has
/// none), sorted by when it is due.
pub const WEBHOOKS_DUE: &str = "WEBHOOKS#DUE";

/// GSI2 sort key of a delivery due at `due`: the Unix second first, so that a query of sort keys
/// below the next second finds every delivery due now.
pub fn webhook_due_sk(
    due: Timestamp,
    org: &OrgId,
    webhook: &crate::domain::WebhookId,
    delivery_id: &str,
) -> String {
    format!("{}#{org}#{webhook}#{delivery_id}", webhook_due_prefix(due))
}

/// The sort key below which every delivery is due by `now`.
pub fn webhook_due_bound(now: Timestamp) -> String {
    webhook_due_prefix(now.plus(time::Duration::SECOND))
}

fn webhook_due_prefix(at: Timestamp) -> String {
    format!("{:012}", at.unix().max(0))
}

/// GSI1 key of every live cluster, which reconciliation walks.
pub const LIVE_CLUSTERS: &str = "CLUSTERS#LIVE";

/// Where reconciliation's last run stopped in that walk.
pub const RECONCILE_PK: &str = "RECONCILE";
pub const POSITION_SK: &str = "POSITION";

pub fn cluster_sk(id: &crate::domain::ClusterId) -> String {
    format!("{CLUSTER_PREFIX}{id}")
}
/// The sort keys of an organization's clusters begin with this.
pub const CLUSTER_PREFIX: &str = "CLUSTER#";

/// An organization's credits: `granted` and `consumed`, in thousandths.
pub const CREDITS_SK: &str = "CREDITS";

/// An organization's usage intervals live in a partition of their own (like its audit log).
pub fn usage_pk(org: &OrgId) -> String {
    format!("USAGE#{org}")
}

/// When it ended first, so that a report reads the intervals that end in or after its window.
pub fn usage_sk(to: Timestamp, cluster: &crate::domain::ClusterId, from: Timestamp) -> String {
    format!("{to}#{cluster}#{from}")
}

/// A cluster's managed users, their revision counter, and its enrolled nodes.
pub fn cluster_users_pk(cluster: &crate::domain::ClusterId) -> String {
    format!("CLUSTERUSERS#{cluster}")
}
pub fn cluster_user_sk(user: &UserId) -> String {
    user_pk(user)
}
/// The sort keys of a cluster's user records begin with this.
pub const CLUSTER_USER_PREFIX: &str = "USER#";
pub const REVISION_SK: &str = "REVISION";
/// An enrolled node of the cluster: `NODE#{instance_id}`.
pub fn node_sk(instance_id: &str) -> String {
    format!("{NODE_PREFIX}{instance_id}")
}
pub const NODE_PREFIX: &str = "NODE#";

/// An organization's Linux accounts: a uid and login per user who was ever a member (kept after
/// they leave, given back when they re-join), the logins taken, and the next uid.
pub fn linux_pk(org: &OrgId) -> String {
    format!("LINUX#{org}")
}
pub fn linux_account_sk(user: &UserId) -> String {
    user_pk(user)
}
pub fn login_sk(login: &str) -> String {
    format!("LOGIN#{login}")
}
pub const NEXT_UID_SK: &str = "NEXT_UID";

/// GSI2 key of an organization's invitations, whatever their status.
pub fn org_invitations_gsi_pk(org: &OrgId) -> String {
    format!("ORG#{org}#INVITATIONS")
}

/// An organization's audit log lives in a partition of its own, so that the organization's
/// partition (members, slots) stays small however long the log grows.
pub fn events_pk(org: &OrgId) -> String {
    format!("EVENTS#{org}")
}

/// Time first, so that a query in key order is a query in time order.
pub fn event_sk(at: Timestamp, id: &uuid::Uuid) -> String {
    format!("{EVENT_PREFIX}{at}#{id}")
}
/// The sort keys of an audit log's events begin with this.
pub const EVENT_PREFIX: &str = "EVENT#";

/// The log of an organization's invitation rate limit.
pub fn org_rate_pk(org: &OrgId) -> String {
    format!("RATE#{}", org_pk(org))
}

/// The log of an inviter's rate limit.
pub fn inviter_rate_pk(user: &UserId) -> String {
    format!("RATE#{}", user_pk(user))
}

/// The log of a recipient's rate limit.
pub fn recipient_rate_pk(email: &Email) -> String {
    format!("RATE#{}", email_slot_sk(email))
}

/// A rate limit's log (earlier, `SLOT#nnn` items held one send each; they age out by TTL).
pub const RATE_LOG_SK: &str = "LOG";
