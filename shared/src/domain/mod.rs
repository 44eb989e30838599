//! Newtypes and rules of the organizations domain. Nothing here knows about DynamoDB or HTTP.

pub mod api_keys;
pub mod audit;
pub mod authz;
mod cloud;
mod cluster;
pub mod cluster_users;
pub mod credits;
mod email;
mod error;
mod ids;
mod model;
pub mod node_identity;
mod role;
mod settings;
pub mod ssh_keys;
mod timestamp;
pub mod webhooks;
pub mod whole;

pub use audit::{Actor, AuditEvent, EventAction, Subject};
pub use cloud::{AwsRegion, CloudAccount, ExternalId, Provider, RoleArn, ServiceIdentity, trust_policy};
pub use cluster::{
    AgentReport, Cluster, ClusterName, ClusterSpec, ClusterState, InstanceType, MAX_WORKERS, MemberAction,
    PORT_PATTERN, Running, Transition, UserManagement, parse_port,
};
pub use cluster_users::{
    ADMINS_GID, ADMINS_GROUP, AccountStatus, AckResult, Acknowledged, ClusterRole, ClusterUser, FIRST_UID,
    LAST_UID, LinuxAccount, NodeFailure, Receipt, SyncStatus, UserChanges, Wanted,
};
pub use credits::{Balance, CHARGING_PERIOD, Credits, Rates, UsageInterval, UsageReport, Window};
pub use email::Email;
pub use error::{DomainError, Source};
pub use ids::{ClusterId, InvitationId, OrgId, ServiceAccountId, UserId, WebhookId};
pub use model::{
    Delivery, Invitation, InvitationStatus, MailProblem, MailProblemKind, MailStatus, Member, Membership,
    NewInvitation, Organization, User,
};
pub use role::{InviteRole, Role};
pub use settings::{OrgName, Permission, Settings, TtlDays};
pub use ssh_keys::{MAX_SSH_KEYS, SshKey};
pub use timestamp::Timestamp;
