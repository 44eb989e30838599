//! Managed cluster users: on every cluster created with `user_management: "managed"`, each member
//! of the organization has an account (the owner and admins as cluster admins), and a member who
//! leaves or is removed is blocked. One record per (cluster, user), with a per-cluster revision
//! that only grows, which the cluster's agent pulls and acknowledges.

use serde::{Deserialize, Serialize};

use super::{DomainError, Email, Membership, OrgId, Role, Timestamp, UserId};

/// A user's role on a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClusterRole {
    Admin,
    User,
}

impl ClusterRole {
    /// The owner and admins administer the organization's clusters.
    pub fn of(role: Role) -> Self {
        match role {
            Role::Owner | Role::Admin => ClusterRole::Admin,
            Role::Member => ClusterRole::User,
        }
    }
}

/// Whether the account may sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    Active,
    Blocked,
}

/// Whether the cluster has applied the record's current revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SyncStatus {
    Pending,
    Applied,
    Failed,
}

/// One user's account on one cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClusterUser {
    pub cluster_id: crate::domain::ClusterId,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub email: Email,
    pub role: ClusterRole,
    pub status: AccountStatus,
    /// The cluster's revision at which this record last changed (unique within the cluster).
    pub revision: u64,
    pub delivery: SyncStatus,
    /// The cluster's error text when it could not apply the record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_at: Option<Timestamp>,
    pub updated_at: Timestamp,
}

/// What a user's account on a cluster should be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub email: Email,
    pub role: ClusterRole,
    pub status: AccountStatus,
}

impl Wanted {
    /// What the account should be given the user's membership now (`None`: not a member) and the
    /// record as it is; `None` when nothing is to change. A member has an active account; a user
    /// who is no longer a member keeps theirs, blocked; someone who never had one gets none.
    pub fn given(membership: Option<&Membership>, current: Option<&ClusterUser>) -> Option<Wanted> {
        let wanted = match (membership, current) {
            (Some(m), _) => Wanted {
                email: m.email.clone(),
                role: ClusterRole::of(m.role),
                status: AccountStatus::Active,
            },
            (None, Some(c)) => {
                Wanted { email: c.email.clone(), role: c.role, status: AccountStatus::Blocked }
            }
            (None, None) => return None,
        };
        match current {
            Some(c) if c.role == wanted.role && c.status == wanted.status && c.email == wanted.email => None,
            _ => Some(wanted),
        }
    }

    /// The record at `revision`, waiting for the cluster to apply it.
    pub fn record(
        self,
        cluster: crate::domain::ClusterId,
        org: OrgId,
        user: UserId,
        revision: u64,
        now: Timestamp,
    ) -> ClusterUser {
        ClusterUser {
            cluster_id: cluster,
            org_id: org,
            user_id: user,
            email: self.email,
            role: self.role,
            status: self.status,
            revision,
            delivery: SyncStatus::Pending,
            error: None,
            applied_at: None,
            updated_at: now,
        }
    }
}

/// A cluster agent's secret: shown once, stored as its SHA-256.
pub struct AgentToken(String);

const TOKEN_PREFIX: &str = "ocat_";

impl AgentToken {
    /// A new token: 244 random bits (two UUIDv4s from the OS's generator), base64url.
    pub fn generate() -> Self {
        use base64::Engine;
        let mut bytes = [0u8; 32];
        bytes[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        bytes[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        Self(format!("{TOKEN_PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What is stored: the hex SHA-256 of the token.
    pub fn hash(&self) -> String {
        hash(&self.0)
    }
}

/// The hex SHA-256 of a presented token.
pub fn hash(token: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether a presented token matches the stored hash, comparing in constant time.
pub fn matches(presented: &str, stored_hash: &str) -> bool {
    let presented = hash(presented);
    presented.len() == stored_hash.len()
        && presented.bytes().zip(stored_hash.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// Minutes of inactivity after which a cluster may be stopped: 10 to 1440.
pub fn check_idle_stop(minutes: Option<u32>) -> Result<(), DomainError> {
    match minutes {
        Some(m) if !(10..=1440).contains(&m) => {
            Err(DomainError::Invalid(format!("idle_stop_minutes must be 10 to 1440, not {m}")))
        }
        _ => Ok(()),
    }
}

/// One page of a cluster's changes for its agent.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserChanges {
    /// Records changed after the revision asked for, in revision order.
    pub users: Vec<ClusterUser>,
    /// The revision to ask after next (the last one in `users`, or the one asked for).
    pub revision: u64,
    /// The cluster's latest revision; `revision` below it means there is more.
    pub latest_revision: u64,
}

/// What an agent reports for one record.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AckResult {
    pub user_id: UserId,
    pub status: SyncStatus,
    #[serde(default)]
    pub error: Option<String>,
}

/// What an acknowledgement did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Acknowledged {
    /// Records now `applied` or `failed`.
    pub recorded: usize,
    /// Results for a record that changed after the acknowledged revision (still pending), or for
    /// no record of this cluster.
    pub stale: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn membership(role: Role) -> Membership {
        Membership {
            org_id: OrgId::new(),
            org_name: "o".into(),
            user_id: UserId::parse("bob").expect("id"),
            email: Email::parse("bob@example.com").expect("email"),
            role,
            joined_at: Timestamp::from_datetime(time::OffsetDateTime::UNIX_EPOCH),
        }
    }

    #[test]
    fn members_are_active_admins_administer_and_leavers_are_blocked() {
        let now = Timestamp::from_datetime(time::OffsetDateTime::UNIX_EPOCH);
        let m = membership(Role::Member);
        let wanted = Wanted::given(Some(&m), None).expect("a new account");
        assert_eq!((wanted.role, wanted.status), (ClusterRole::User, AccountStatus::Active));
        let record =
            wanted.record(crate::domain::ClusterId::from_u128(0), m.org_id, m.user_id.clone(), 1, now);
        assert_eq!(Wanted::given(Some(&m), Some(&record)), None, "nothing changes twice");
        let promoted = Wanted::given(Some(&membership(Role::Admin)), Some(&record)).expect("a change");
        assert_eq!(promoted.role, ClusterRole::Admin);
        assert_eq!(ClusterRole::of(Role::Owner), ClusterRole::Admin);
        let blocked = Wanted::given(None, Some(&record)).expect("blocked");
        assert_eq!((blocked.role, blocked.status), (ClusterRole::User, AccountStatus::Blocked));
        let blocked =
            blocked.record(crate::domain::ClusterId::from_u128(0), m.org_id, m.user_id.clone(), 2, now);
        assert_eq!(Wanted::given(None, Some(&blocked)), None);
        assert_eq!(Wanted::given(None, None), None, "a stranger gets no account");
        let back = Wanted::given(Some(&m), Some(&blocked)).expect("active again");
        assert_eq!(back.status, AccountStatus::Active);
    }

    #[test]
    fn a_token_is_checked_against_its_hash_only() {
        let token = AgentToken::generate();
        assert!(token.as_str().starts_with(TOKEN_PREFIX) && token.as_str().len() > 40);
        assert!(matches(token.as_str(), &token.hash()));
        assert!(!matches(AgentToken::generate().as_str(), &token.hash()));
        assert!(!matches("", &token.hash()));
        assert_ne!(token.hash(), token.as_str());
    }

    #[test]
    fn idle_stop_is_ten_minutes_to_a_day() {
        assert!(check_idle_stop(None).is_ok());
        assert!(check_idle_stop(Some(10)).is_ok() && check_idle_stop(Some(1440)).is_ok());
        assert!(check_idle_stop(Some(9)).is_err() && check_idle_stop(Some(1441)).is_err());
    }
}
