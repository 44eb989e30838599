//! Service accounts and their API keys: credentials the organization owns, for automation (CI
//! starting a cluster, Terraform, an on-call bot), that keep working when the person who made
//! them leaves.
//!
//! A key is `ocak_` + a 12-character key id + 32 random characters + a 6-character CRC32 of
//! the two, all base62 (as GitHub's tokens): a leaked key is recognisable offline by its prefix,
//! and a mistyped one fails its checksum before any table read. The id is public (lists and the
//! audit log show it) and finds the key's item in one read; the random part (190 bits) is the
//! secret, and only the SHA-256 of the whole key is stored.
//!
//! What a key may do is its scopes: actions of the one authorization table ([`super::authz`]),
//! limited to those a key may ever hold ([`Action::keyable`]). Managing members, roles,
//! ownership, settings, the cloud account, service accounts and keys stays with people.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::authz::Action;
use super::{DomainError, OrgId, ServiceAccountId, Timestamp};

/// What every key starts with.
pub const KEY_PREFIX: &str = "ocak_";
const ID_LEN: usize = 12;
const SECRET_LEN: usize = 32;
const CHECKSUM_LEN: usize = 6;
/// How long every key is, prefix included.
pub const KEY_LEN: usize = KEY_PREFIX.len() + ID_LEN + SECRET_LEN + CHECKSUM_LEN;

/// Service accounts an organization may have.
pub const MAX_SERVICE_ACCOUNTS: u32 = 20;
/// Keys a service account may hold at once (expired ones count until revoked): enough to rotate.
pub const MAX_KEYS: u32 = 5;
/// A service account's name: 1 to 64 characters after trimming.
pub const MAX_NAME: usize = 64;
/// Its description: at most 280 characters.
pub const MAX_DESCRIPTION: usize = 280;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

impl Action {
    /// Whether a key may hold this action as a scope. Never: anything about who is a member and
    /// with which role (inviting an admin among them: that takes an owner or admin), the
    /// organization's settings and cloud account, webhooks, and (not an action of the table)
    /// service accounts and keys themselves. Inviting a member: the email names the
    /// organization's service account, and the invitation stands while the account exists.
    pub fn keyable(self) -> bool {
        matches!(
            self,
            Action::Read
                | Action::Invite(crate::domain::InviteRole::Member)
                | Action::ReadEvents
                | Action::OperateClusters
                | Action::ManageClusters
                | Action::OpenPorts
                | Action::ManageClusterUsers
        )
    }

    /// The action named `key` on the wire (`operate_clusters`...).
    pub fn from_key(key: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.key() == key)
    }
}

/// A key's scopes: keyable actions, each once, in the table's order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scopes(Vec<Action>);

impl Scopes {
    /// The scopes named on the wire; an unknown or unkeyable name, or none at all, is refused.
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<Self, DomainError> {
        if names.is_empty() {
            return Err(DomainError::Invalid("a key needs at least one scope".into()));
        }
        let mut actions = Vec::new();
        for name in names {
            let name = name.as_ref();
            let action = Action::from_key(name)
                .ok_or_else(|| DomainError::Invalid(format!("'{name}' is not a scope")))?;
            if !action.keyable() {
                return Err(DomainError::Invalid(format!(
                    "'{name}' cannot be a key's scope: only people may {action}"
                )));
            }
            if !actions.contains(&action) {
                actions.push(action);
            }
        }
        actions.sort_by_key(|a| Action::ALL.iter().position(|b| b == a));
        Ok(Self(actions))
    }

    pub fn allows(&self, action: Action) -> bool {
        self.0.contains(&action)
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|a| a.key()).collect()
    }

    /// Every scope a key may hold, by name.
    pub fn all_names() -> Vec<&'static str> {
        Action::ALL.into_iter().filter(|a| a.keyable()).map(Action::key).collect()
    }
}

/// The public part of a key: 12 base62 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeyId(String);

impl KeyId {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        if raw.len() == ID_LEN && raw.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(DomainError::Invalid(format!("'{raw}' is not a key id (12 letters and digits)")))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for KeyId {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<KeyId> for String {
    fn from(value: KeyId) -> Self {
        value.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A whole key, as shown once when it is made and presented after.
pub struct ApiKey(String);

impl ApiKey {
    /// A new key with a new id, from the operating system's random source.
    pub fn generate() -> (KeyId, Self) {
        let random = random_base62(ID_LEN + SECRET_LEN);
        let id = KeyId(random[..ID_LEN].to_owned());
        let checksum = base62_u32(crc32fast::hash(random.as_bytes()));
        (id, Self(format!("{KEY_PREFIX}{random}{checksum}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What is stored: the key's SHA-256, in hex.
    pub fn hash(&self) -> String {
        super::cluster_users::hash(&self.0)
    }

    /// The id of a presented bearer token that has a key's form and a right checksum; `None` for
    /// anything else, without reading anything.
    pub fn presented(token: &str) -> Option<(KeyId, Self)> {
        let body = token.strip_prefix(KEY_PREFIX)?;
        if token.len() != KEY_LEN || !body.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return None;
        }
        let (random, checksum) = body.split_at(ID_LEN + SECRET_LEN);
        (base62_u32(crc32fast::hash(random.as_bytes())) == checksum)
            .then(|| (KeyId(random[..ID_LEN].to_owned()), Self(token.to_owned())))
    }

    /// Whether a bearer token is meant as a key (its prefix), well-formed or not.
    pub fn looks_like(token: &str) -> bool {
        token.starts_with(KEY_PREFIX)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(..)")
    }
}

/// `n` base62 characters drawn uniformly from the OS's random source (UUIDv4s: getrandom), by
/// rejection: bytes of 248 and over are dropped so that each character is equally likely.
pub(crate) fn random_base62(n: usize) -> String {
    let mut out = String::with_capacity(n);
    while out.len() < n {
        for b in uuid::Uuid::new_v4().into_bytes() {
            if b < 248 && out.len() < n {
                out.push(BASE62[usize::from(b % 62)] as char);
            }
        }
    }
    out
}

/// A CRC32 as six base62 digits (62^6 > 2^32), most significant first.
fn base62_u32(mut n: u32) -> String {
    let mut digits = [b'0'; CHECKSUM_LEN];
    for d in digits.iter_mut().rev() {
        *d = BASE62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8_lossy(&digits).into_owned()
}

/// A key's lifetime in days: 1 to 366. The organization's maximum defaults to 90.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "super::whole::Whole", into = "u32")]
pub struct KeyDays(u16);

impl KeyDays {
    pub const DEFAULT_MAX: KeyDays = KeyDays(90);

    pub fn duration(self) -> time::Duration {
        time::Duration::days(i64::from(self.0))
    }
}

impl TryFrom<u32> for KeyDays {
    type Error = DomainError;
    fn try_from(days: u32) -> Result<Self, Self::Error> {
        match u16::try_from(days) {
            Ok(d @ 1..=366) => Ok(Self(d)),
            _ => Err(DomainError::Invalid(format!("a key's lifetime is 1 to 366 days, not {days}"))),
        }
    }
}

impl TryFrom<super::whole::Whole> for KeyDays {
    type Error = DomainError;
    fn try_from(days: super::whole::Whole) -> Result<Self, Self::Error> {
        u32::try_from(days.0)
            .map_err(|_| DomainError::Invalid(format!("a key's lifetime is 1 to 366 days, not {}", days.0)))
            .and_then(Self::try_from)
    }
}

impl From<KeyDays> for u32 {
    fn from(value: KeyDays) -> Self {
        u32::from(value.0)
    }
}

impl Default for KeyDays {
    fn default() -> Self {
        Self::DEFAULT_MAX
    }
}

/// A service account's name, trimmed: 1 to 64 characters, none of them control characters.
pub fn account_name(raw: &str) -> Result<String, DomainError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(DomainError::Invalid(format!(
            "a service account's name is 1 to {MAX_NAME} characters without control characters"
        )));
    }
    Ok(name.to_owned())
}

/// Its description, trimmed: at most 280 characters, no control characters but newlines.
pub fn account_description(raw: &str) -> Result<String, DomainError> {
    let text = raw.trim();
    if text.chars().count() > MAX_DESCRIPTION || text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(DomainError::Invalid(format!(
            "a description is at most {MAX_DESCRIPTION} characters without control characters"
        )));
    }
    Ok(text.to_owned())
}

/// A key in use: what its item said when the request read it. It stands in for a membership
/// ([`super::Membership::key`]); every write that rests on it carries the condition that the key
/// still exists and has not expired.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyUse {
    pub org_id: OrgId,
    pub service_account_id: ServiceAccountId,
    pub service_account: String,
    pub key_id: KeyId,
    #[serde(skip)]
    pub scopes: Scopes,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// When it was last used, as recorded (at most once a minute).
    #[serde(skip)]
    pub last_used_at: Option<Timestamp>,
}

impl KeyUse {
    /// Whether its use should be recorded now: never recorded, or over a minute ago.
    pub fn due_for_use_record(&self, now: Timestamp) -> bool {
        self.last_used_at.is_none_or(|at| now.datetime() - at.datetime() >= time::Duration::MINUTE)
    }
}

/// A service account as its organization's managers see it, with its keys (never their secrets).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ServiceAccount {
    pub service_account_id: ServiceAccountId,
    pub name: String,
    pub description: String,
    pub created_at: Timestamp,
    /// Who made it; it belongs to the organization and outlives them.
    pub created_by: super::UserId,
    pub keys: Vec<ApiKeyInfo>,
}

/// A key as lists show it: its public id, never the key.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ApiKeyInfo {
    pub key_id: KeyId,
    /// Actions of the authorization table this key may take.
    pub scopes: Vec<String>,
    pub created_at: Timestamp,
    pub created_by: super::UserId,
    pub expires_at: Timestamp,
    /// Past `expires_at`: the key is refused (401) and still counts until revoked.
    pub expired: bool,
    /// When it was last used, to the minute; absent if never.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<Timestamp>,
}

/// Why a presented key is refused: each is the same 401 to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRefusal {
    /// No such key in this organization (never made, revoked, or another organization's).
    Unknown,
    Expired,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_passes_its_own_checksum_and_a_changed_character_fails_it() {
        let (id, key) = ApiKey::generate();
        assert_eq!(key.as_str().len(), KEY_LEN);
        assert!(key.as_str().starts_with("ocak_"));
        let (read, _) = ApiKey::presented(key.as_str()).expect("well-formed");
        assert_eq!(read, id);
        // Every single-character change of the random part is caught (CRC32 detects all
        // single-symbol errors in a message this short).
        let raw = key.as_str().as_bytes().to_vec();
        for i in KEY_PREFIX.len()..KEY_LEN - CHECKSUM_LEN {
            let mut typo = raw.clone();
            typo[i] = if typo[i] == b'a' { b'b' } else { b'a' };
            assert!(ApiKey::presented(std::str::from_utf8(&typo).unwrap()).is_none(), "typo at {i}");
        }
        assert!(ApiKey::presented(&key.as_str()[..KEY_LEN - 1]).is_none());
        assert!(ApiKey::presented(&format!("ocn_{}", &key.as_str()[5..])).is_none());
        assert_ne!(ApiKey::generate().1.as_str(), key.as_str());
    }

    #[test]
    fn a_checksum_is_six_base62_digits() {
        assert_eq!(base62_u32(0), "000000");
        assert_eq!(base62_u32(61), "00000z");
        assert_eq!(base62_u32(62), "000010");
        assert_eq!(base62_u32(u32::MAX), "4gfFC3");
    }

    #[test]
    fn scopes_are_keyable_actions_only() {
        let scopes = Scopes::parse(&["operate_clusters", "read", "read"]).unwrap();
        assert_eq!(scopes.names(), ["read", "operate_clusters"]);
        assert!(scopes.allows(Action::OperateClusters));
        assert!(!scopes.allows(Action::Invite(crate::domain::InviteRole::Member)));
        assert!(
            Scopes::parse(&["invite_member"])
                .expect("keyable")
                .allows(Action::Invite(crate::domain::InviteRole::Member))
        );
        for never in [
            "manage_webhooks",
            "change_role",
            "transfer_ownership",
            "remove_member",
            "invite_admin",
            "configure_account",
        ] {
            assert!(matches!(Scopes::parse(&[never]), Err(DomainError::Invalid(_))), "{never}");
        }
        assert!(Scopes::parse::<&str>(&[]).is_err());
        assert!(Scopes::parse(&["fly"]).is_err());
        assert_eq!(Scopes::all_names().len(), 7);
    }

    #[test]
    fn a_lifetime_is_one_to_366_days() {
        assert!(KeyDays::try_from(0).is_err());
        assert!(KeyDays::try_from(367).is_err());
        assert_eq!(u32::from(KeyDays::try_from(366).unwrap()), 366);
        assert_eq!(KeyDays::default(), KeyDays::try_from(90).unwrap());
    }
}
