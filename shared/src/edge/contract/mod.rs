//! The API's wire types that are not domain types themselves: request bodies, pages and views.
//! The functions build their answers from these, and `openapi` describes them, so the document
//! and the answers come from the same definitions.

pub mod openapi;
mod scalars;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::{
    AckResult, AuditEvent, Balance, CloudAccount, Cluster, ClusterUser, Email, ExternalId, Invitation,
    InvitationId, InviteRole, MailStatus, Member, OrgId, OrgName, Organization, Role, Timestamp, User,
    UserId,
};

/// `GET /v1/me`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Dashboard {
    pub user: User,
    pub organizations: Vec<OrganizationEntry>,
    /// Open invitations to the user's address, newest first.
    pub invitations: Vec<InvitationEntry>,
}

/// One of the user's organizations on their dashboard.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationEntry {
    pub org_id: OrgId,
    pub name: String,
    pub role: Role,
    pub joined_at: Timestamp,
}

/// An open invitation on the invitee's dashboard.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationEntry {
    pub invitation_id: InvitationId,
    pub org_id: OrgId,
    pub org_name: String,
    pub invited_by: UserId,
    pub invited_by_email: Email,
    pub role: InviteRole,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// `GET /v1/organizations/{org_id}`: the organization, the caller's role and its credits.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationView {
    #[serde(flatten)]
    pub organization: Organization,
    pub role: Role,
    pub credits: Balance,
    /// Every action and whether the caller may do it now, from the table the API decides by
    /// (the API still decides each request).
    pub abilities: Vec<crate::domain::authz::Ability>,
    /// The settings' version (also the answer's `ETag`): send it as `If-Match` with
    /// `PUT .../permissions` so that a change someone made meanwhile is not silently reverted.
    pub settings_version: String,
}

/// `POST /v1/organizations`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrganization {
    pub name: OrgName,
}

/// `POST /v1/me/ssh-keys`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSshKey {
    /// An OpenSSH public key line, as in a `.pub` file: Ed25519, ECDSA, or RSA of at least 3072
    /// bits.
    pub public_key: String,
}

/// `GET /v1/me/ssh-keys`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SshKeys {
    pub keys: Vec<crate::domain::SshKey>,
    /// Most keys a person may have.
    pub max_keys: usize,
}

/// `POST /v1/organizations/{org_id}/service-accounts`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewServiceAccount {
    /// 1 to 64 characters after trimming, no control characters.
    pub name: String,
    /// What it is for: at most 280 characters.
    #[serde(default)]
    pub description: Option<String>,
}

/// `GET /v1/organizations/{org_id}/service-accounts`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceAccounts {
    pub service_accounts: Vec<crate::domain::api_keys::ServiceAccount>,
    /// Most service accounts an organization may have.
    pub max_service_accounts: u32,
    /// Most keys one may hold at once (expired ones count until revoked).
    pub max_keys: u32,
    /// Every scope a key may be given.
    pub scopes: Vec<&'static str>,
}

/// `POST /v1/organizations/{org_id}/service-accounts/{service_account_id}/keys`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    /// Actions of the authorization table the key may take: `read`, `invite_member`,
    /// `read_events`, `operate_clusters`, `manage_clusters`, `open_ports`,
    /// `manage_cluster_users`.
    #[schema(min_items = 1)]
    pub scopes: Vec<ScopeName>,
    /// Days it lasts: 1 to the organization's `api_key_max_days` (90 unless changed), which is
    /// also the default.
    #[serde(default)]
    pub expires_in_days: Option<crate::domain::api_keys::KeyDays>,
}

/// A scope's name on the wire; which names exist is checked by
/// [`crate::domain::api_keys::Scopes::parse`], and the schema lists them.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct ScopeName(pub String);

impl AsRef<str> for ScopeName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A key just made: the only time the key itself is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedApiKey {
    /// The key, for `Authorization: Bearer`. Not stored (only its SHA-256): it cannot be shown
    /// again.
    pub key: String,
    pub service_account_id: crate::domain::ServiceAccountId,
    #[serde(flatten)]
    pub info: crate::domain::api_keys::ApiKeyInfo,
}

/// `POST /v1/organizations/{org_id}/webhooks`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// Where deliveries go: `https`, no credentials in it, a host that resolves to public
    /// addresses only (checked again at every delivery).
    #[schema(max_length = 2048, pattern = "^https://")]
    pub url: String,
    /// What it wants to hear about.
    #[schema(min_items = 1)]
    pub events: Vec<crate::domain::webhooks::EventType>,
    /// What it is for: at most 280 characters.
    #[serde(default)]
    pub description: Option<String>,
}

/// `GET /v1/organizations/{org_id}/webhooks`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Webhooks {
    pub webhooks: Vec<crate::domain::webhooks::Webhook>,
    /// Most endpoints an organization may have.
    pub max_webhooks: usize,
    /// Every event type an endpoint may ask for.
    pub event_types: Vec<crate::domain::webhooks::EventType>,
}

/// An endpoint with its secret: the answer to its creation and to a rotation, and the only time
/// the secret is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookWithSecret {
    /// Signs every delivery: `Orgs-Signature: v1=` and the hex HMAC-SHA256, under this secret,
    /// of `"{Orgs-Timestamp}.{body}"`. It cannot be shown again.
    pub secret: String,
    #[serde(flatten)]
    pub webhook: crate::domain::webhooks::Webhook,
}

/// `GET /v1/organizations/{org_id}/webhooks/{webhook_id}/deliveries`: the newest 50.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDeliveries {
    pub deliveries: Vec<crate::domain::webhooks::Delivery>,
}

/// The organization just created, owned by the caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedOrganization {
    #[serde(flatten)]
    pub organization: Organization,
    pub role: Role,
}

/// `PATCH /v1/organizations/{org_id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rename {
    pub name: OrgName,
}

/// `GET .../members`: one page.
#[derive(Debug, Serialize, ToSchema)]
pub struct MembersPage {
    pub org_id: OrgId,
    pub name: String,
    pub members: Vec<Member>,
    /// Present when there is another page: pass it as `cursor`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// `PATCH .../members/{user_id}`. `owner` is not an invitable role: asking for it is a 400.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    pub role: InviteRole,
}

/// `POST .../ownership`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    /// The member who becomes the owner.
    pub user_id: String,
}

/// The organization's new owner, and the caller's role now (`admin`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Transferred {
    pub org_id: OrgId,
    pub owner_id: UserId,
    pub role: Role,
}

fn default_invite_role() -> InviteRole {
    InviteRole::Member
}

/// `POST .../invitations`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteRequest {
    pub email: Email,
    /// `member` unless given.
    #[serde(default = "default_invite_role")]
    pub role: InviteRole,
}

/// An invitation as its organization's list shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListedInvitation {
    #[serde(flatten)]
    pub invitation: Invitation,
    /// Whether the email went out, or why it did not arrive.
    pub mail: MailStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mail_problem: Option<String>,
}

/// `GET .../invitations`: one page.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationsPage {
    pub invitations: Vec<ListedInvitation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// `POST /v1/invitations/{invitation_id}/accept`: the membership it made.
#[derive(Debug, Serialize, ToSchema)]
pub struct Joined {
    pub org_id: OrgId,
    pub org_name: String,
    pub role: Role,
    pub joined_at: Timestamp,
}

/// `GET .../events`: one page, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventsPage {
    pub events: Vec<AuditEvent>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// `PUT .../cloud-account`. No access keys: the service assumes the role.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigureAccount {
    #[schema(value_type = crate::domain::Provider)]
    pub provider: String,
    #[schema(value_type = crate::domain::RoleArn)]
    pub role_arn: String,
    #[schema(value_type = crate::domain::AwsRegion)]
    pub region: String,
}

/// `GET .../cloud-account`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CloudAccountPage {
    pub external_id: ExternalId,
    /// The trust policy to attach to the role, as IAM reads it.
    #[schema(value_type = Object)]
    pub trust_policy: serde_json::Value,
    /// `null` until someone connects an account.
    pub account: Option<CloudAccount>,
}

/// `GET .../clusters`: one page.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClustersPage {
    pub clusters: Vec<Cluster>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// `GET .../clusters/{cluster_id}/users`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClusterUsers {
    pub users: Vec<ClusterUser>,
}

/// `DELETE .../clusters/{cluster_id}/nodes`: how many nodes' credentials were revoked.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevokedNodes {
    pub cluster_id: crate::domain::ClusterId,
    pub revoked: u64,
}

/// `POST /v1/agent/clusters/{cluster_id}/enroll`: the instance's identity document and its
/// signature as the instance metadata service gives them, and the node's nonce.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Enroll {
    /// The cluster's organization (in the node's user data, beside the cluster's id).
    pub org_id: OrgId,
    /// `/latest/dynamic/instance-identity/document`, byte for byte.
    #[schema(max_length = 4096)]
    pub document: String,
    /// `/latest/dynamic/instance-identity/signature` (base64 RSA-SHA256).
    #[schema(max_length = 4096)]
    pub signature: String,
    /// The node's own random value: set by its first enrollment, required by every later one.
    #[schema(min_length = 32, max_length = 128, pattern = "^[A-Za-z0-9_-]+$")]
    pub nonce: String,
}

/// The node's credential (`Authorization: Bearer` on the agent routes), shown once, and when it
/// ends: the node enrolls again before then.
#[derive(Debug, Serialize, ToSchema)]
pub struct Enrolled<'a> {
    pub cluster_id: crate::domain::ClusterId,
    pub instance_id: &'a str,
    pub credential: &'a str,
    pub expires_at: Timestamp,
}

/// `POST /v1/agent/clusters/{cluster_id}/users/ack`: what the cluster applied up to `revision`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Ack {
    #[serde(deserialize_with = "crate::domain::whole::int64")]
    #[schema(maximum = 9223372036854775807_i64)]
    pub revision: u64,
    #[schema(max_items = 500)]
    pub results: Vec<AckResult>,
}

/// `POST /v1/agent/clusters/{cluster_id}/heartbeat`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    #[serde(deserialize_with = "crate::domain::whole::u32")]
    #[schema(format = Int64, maximum = 4294967295_i64)]
    pub active_sessions: u32,
    #[serde(default)]
    pub last_activity_at: Option<Timestamp>,
}
