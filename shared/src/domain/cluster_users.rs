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

/// The first uid the control plane gives: below it are the image's own accounts (the system's,
/// cloud-init's default user at 1000).
pub const FIRST_UID: u32 = 20_000;
/// The last: uids stay below the 100,000 where subordinate id ranges usually begin.
pub const LAST_UID: u32 = 99_999;
/// The group whose members have sudo on every node (the owner and admins).
pub const ADMINS_GROUP: &str = "orgs-admins";
/// Its gid, the same on every node.
pub const ADMINS_GID: u32 = 19_999;
/// Longest login: useradd takes 32; a suffix of up to 6 digits stays inside it.
const LOGIN_BASE_MAX: usize = 24;
/// Names a node's image already uses, which no member's login may take.
const RESERVED_LOGINS: &[&str] = &[
    "root",
    "daemon",
    "bin",
    "sys",
    "sync",
    "games",
    "man",
    "lp",
    "mail",
    "news",
    "uucp",
    "proxy",
    "www-data",
    "backup",
    "list",
    "irc",
    "gnats",
    "nobody",
    "systemd-network",
    "systemd-resolve",
    "systemd-timesync",
    "messagebus",
    "syslog",
    "sshd",
    "admin",
    "ubuntu",
    "debian",
    "ec2-user",
    "centos",
    "fedora",
    "admins",
    "sudo",
    "wheel",
    "adm",
    "staff",
    "users",
    "operator",
    "orgs-agent",
    ADMINS_GROUP,
];

/// A member's Linux account on the organization's clusters: the same uid and login on every node
/// of every managed cluster of the organization, kept when they leave and given back when they
/// re-join.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LinuxAccount {
    /// At least [`FIRST_UID`]; unique within the organization.
    pub uid: u32,
    /// Valid for `useradd` (`^[a-z][a-z0-9_-]*$`, at most 32); unique within the organization.
    pub login: String,
}

impl LinuxAccount {
    /// The login an email's local part asks for: lowercase letters, digits, `_` and `-` kept,
    /// `.` and `+` become `_`, anything else is dropped; it begins with a letter (`u` is put in
    /// front otherwise), is at most 24 characters, and is not a name the image uses (then the
    /// uid is appended, as [`LinuxAccount::suffixed`] does when another member has it).
    pub fn login_for(email: &Email, uid: u32) -> String {
        let local = email.as_str().split('@').next().unwrap_or_default().to_ascii_lowercase();
        let mut login: String = local
            .chars()
            .filter_map(|c| match c {
                'a'..='z' | '0'..='9' | '_' | '-' => Some(c),
                '.' | '+' => Some('_'),
                _ => None,
            })
            .collect();
        if !login.starts_with(|c: char| c.is_ascii_lowercase()) {
            login.insert(0, 'u');
        }
        login.truncate(LOGIN_BASE_MAX);
        if RESERVED_LOGINS.contains(&login.as_str()) { Self::suffixed(&login, uid) } else { login }
    }

    /// `login` made unique by the uid, for when another member of the organization has it.
    pub fn suffixed(login: &str, uid: u32) -> String {
        let mut base = login.to_owned();
        base.truncate(LOGIN_BASE_MAX);
        format!("{base}{uid}")
    }

    /// Whether `login` is one the control plane could have given (what a node checks before it
    /// passes a record's login to `useradd`).
    pub fn valid_login(login: &str) -> bool {
        !login.is_empty()
            && login.len() <= 32
            && login.starts_with(|c: char| c.is_ascii_lowercase())
            && login.chars().all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_' | '-'))
            && !RESERVED_LOGINS.contains(&login)
    }
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
    /// The account on the nodes (absent only on records written before accounts had uids: the
    /// next sync of that member adds it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linux: Option<LinuxAccount>,
    /// The member's SSH public keys, one `authorized_keys` line each (none while blocked).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ssh_keys: Vec<String>,
    /// The cluster's revision at which this record last changed (unique within the cluster).
    pub revision: u64,
    pub delivery: SyncStatus,
    /// The cluster's error text when it could not apply the record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_at: Option<Timestamp>,
    pub updated_at: Timestamp,
    /// How far this revision has reached the cluster's nodes (in what `list-cluster-users`
    /// answers; never stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<Receipt>,
}

/// A record's revision on the cluster's nodes: how many of its nodes (its instances) acknowledged
/// applying it, and the nodes that failed it with their error. The record is `applied` when every
/// node has, `failed` when any node failed it, `pending` otherwise (a stopped node catches up when
/// it starts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Receipt {
    pub applied: u32,
    pub nodes: u32,
    #[serde(default)]
    pub failed: Vec<NodeFailure>,
}

/// A node that could not apply a record, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NodeFailure {
    pub instance_id: String,
    pub error: String,
}

impl Receipt {
    /// The delivery this receipt means.
    pub fn delivery(&self) -> SyncStatus {
        if !self.failed.is_empty() {
            SyncStatus::Failed
        } else if self.nodes > 0 && self.applied == self.nodes {
            SyncStatus::Applied
        } else {
            SyncStatus::Pending
        }
    }
}

/// What a user's account on a cluster should be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub email: Email,
    pub role: ClusterRole,
    pub status: AccountStatus,
    pub linux: Option<LinuxAccount>,
    pub ssh_keys: Vec<String>,
}

impl Wanted {
    /// What the account should be given the user's membership now (`None`: not a member) and the
    /// record as it is; `None` when nothing is to change. A member has an active account; a user
    /// who is no longer a member keeps theirs, blocked; someone who never had one gets none. The
    /// Linux account is the organization's for that user (`linux`), else the record's; an active
    /// account takes the person's `keys`, a blocked one none.
    pub fn given(
        membership: Option<&Membership>,
        current: Option<&ClusterUser>,
        linux: Option<&LinuxAccount>,
        keys: &[String],
    ) -> Option<Wanted> {
        let linux = linux.cloned().or_else(|| current.and_then(|c| c.linux.clone()));
        let wanted = match (membership, current) {
            (Some(m), _) => Wanted {
                email: m.email.clone(),
                role: ClusterRole::of(m.role),
                status: AccountStatus::Active,
                linux,
                ssh_keys: keys.to_vec(),
            },
            (None, Some(c)) => Wanted {
                email: c.email.clone(),
                role: c.role,
                status: AccountStatus::Blocked,
                linux,
                ssh_keys: Vec::new(),
            },
            (None, None) => return None,
        };
        match current {
            Some(c)
                if c.role == wanted.role
                    && c.status == wanted.status
                    && c.email == wanted.email
                    && c.linux == wanted.linux
                    && c.ssh_keys == wanted.ssh_keys =>
            {
                None
            }
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
            linux: self.linux,
            ssh_keys: self.ssh_keys,
            revision,
            delivery: SyncStatus::Pending,
            error: None,
            applied_at: None,
            updated_at: now,
            receipt: None,
        }
    }
}

/// The hex SHA-256 of a secret (node credentials and nonces are stored so).
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
            key: None,
        }
    }

    #[test]
    fn members_are_active_admins_administer_and_leavers_are_blocked() {
        let now = Timestamp::from_datetime(time::OffsetDateTime::UNIX_EPOCH);
        let m = membership(Role::Member);
        let linux = LinuxAccount { uid: FIRST_UID, login: "bob".into() };
        let wanted = Wanted::given(Some(&m), None, Some(&linux), &[]).expect("a new account");
        assert_eq!((wanted.role, wanted.status), (ClusterRole::User, AccountStatus::Active));
        let record =
            wanted.record(crate::domain::ClusterId::from_u128(0), m.org_id, m.user_id.clone(), 1, now);
        assert_eq!(record.linux.as_ref(), Some(&linux));
        assert_eq!(Wanted::given(Some(&m), Some(&record), Some(&linux), &[]), None, "nothing changes twice");
        let promoted = Wanted::given(Some(&membership(Role::Admin)), Some(&record), Some(&linux), &[])
            .expect("a change");
        assert_eq!(promoted.role, ClusterRole::Admin);
        assert_eq!(ClusterRole::of(Role::Owner), ClusterRole::Admin);
        let blocked = Wanted::given(None, Some(&record), None, &[]).expect("blocked");
        assert_eq!((blocked.role, blocked.status), (ClusterRole::User, AccountStatus::Blocked));
        assert_eq!(blocked.linux.as_ref(), Some(&linux), "a blocked account keeps its uid");
        let blocked =
            blocked.record(crate::domain::ClusterId::from_u128(0), m.org_id, m.user_id.clone(), 2, now);
        assert_eq!(Wanted::given(None, Some(&blocked), None, &[]), None);
        assert_eq!(Wanted::given(None, None, None, &[]), None, "a stranger gets no account");
        let back = Wanted::given(Some(&m), Some(&blocked), Some(&linux), &[]).expect("active again");
        let keyed = Wanted::given(Some(&m), Some(&record), Some(&linux), &["ssh-ed25519 AAAA k".into()]);
        assert_eq!(keyed.expect("a new key is a change").ssh_keys, ["ssh-ed25519 AAAA k"]);
        assert_eq!((back.status, back.linux), (AccountStatus::Active, Some(linux.clone())));
        // A record written before accounts had uids gets its account at the next sync.
        let mut old = record.clone();
        old.linux = None;
        assert_eq!(
            Wanted::given(Some(&m), Some(&old), Some(&linux), &[]).expect("a change").linux,
            Some(linux)
        );
    }

    #[test]
    fn logins_are_what_useradd_takes_and_never_the_images_names() {
        let login = |e: &str| LinuxAccount::login_for(&Email::parse(e).expect("email"), 20_004);
        assert_eq!(login("bob@example.com"), "bob");
        assert_eq!(login("Bob.Smith+ci@example.com"), "bob_smith_ci");
        assert_eq!(login("42@example.com"), "u42");
        assert_eq!(login("root@example.com"), "root20004");
        assert_eq!(login("ec2-user@example.com"), "ec2-user20004");
        assert_eq!(login("averyveryverylonglocalpartindeed@example.com"), "averyveryverylonglocalpa");
        assert_eq!(LinuxAccount::suffixed("averyveryverylonglocalpa", 99_999).len(), 29);
        for e in
            ["bob@example.com", "Bob.Smith+ci@example.com", "42@example.com", "root@example.com", "-x@e.com"]
        {
            assert!(LinuxAccount::valid_login(&login(e)), "{e}: {}", login(e));
        }
        assert!(!LinuxAccount::valid_login("root") && !LinuxAccount::valid_login("../etc"));
        assert!(!LinuxAccount::valid_login("Bob") && !LinuxAccount::valid_login(""));
    }

    #[test]
    fn idle_stop_is_ten_minutes_to_a_day() {
        assert!(check_idle_stop(None).is_ok());
        assert!(check_idle_stop(Some(10)).is_ok() && check_idle_stop(Some(1440)).is_ok());
        assert!(check_idle_stop(Some(9)).is_err() && check_idle_stop(Some(1441)).is_err());
    }
}
