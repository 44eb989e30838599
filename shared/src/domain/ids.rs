//! Identifiers. User ids are Cognito `sub`s; organization and invitation ids are UUIDs we mint.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::DomainError;

/// A user's id: the identity provider's `sub` claim. Opaque, but bounded and printable, since it
/// becomes part of a DynamoDB key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UserId(String);

impl UserId {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let ok = !raw.is_empty()
            && raw.len() <= 128
            && raw.chars().all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c));
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(DomainError::Invalid(format!("'{raw}' is not a valid user id")))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The principal a service account acts as: `sa:` and its id (no identity provider's
    /// subject has a colon).
    pub fn of_service_account(id: &ServiceAccountId) -> Self {
        Self(format!("sa:{id}"))
    }

    /// The service account this id stands for, when it is one ([`UserId::of_service_account`]).
    pub fn service_account(&self) -> Option<ServiceAccountId> {
        self.0.strip_prefix("sa:").and_then(|id| ServiceAccountId::parse(id).ok())
    }
}

impl TryFrom<String> for UserId {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<UserId> for String {
    fn from(value: UserId) -> Self {
        value.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        uuid_id!($(#[$doc])* $name, $what, Uuid::new_v4);
    };
    ($(#[$doc:meta])* $name:ident, $what:literal, $mint:path) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            pub fn new() -> Self {
                Self($mint())
            }

            /// The id of a number, for tests and samples that need a fixed one.
            pub const fn from_u128(n: u128) -> Self {
                Self(Uuid::from_u128(n))
            }

            /// Parses a path parameter; anything but a UUID is a client mistake.
            pub fn parse(raw: &str) -> Result<Self, DomainError> {
                Uuid::parse_str(raw)
                    .map(Self)
                    .map_err(|_| DomainError::Invalid(format!("'{raw}' is not a valid {}", $what)))
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }
    };
}

uuid_id!(
    /// An organization's id.
    OrgId,
    "organization id"
);
uuid_id!(
    /// An invitation's id, as it appears in the accept and decline URLs.
    InvitationId,
    "invitation id"
);
uuid_id!(
    /// A service account's id.
    ServiceAccountId,
    "service account id"
);
uuid_id!(
    /// A webhook endpoint's id.
    WebhookId,
    "webhook id"
);
uuid_id!(
    /// A cluster's id: time-ordered (UUIDv7), so an organization's clusters list oldest first.
    ClusterId,
    "cluster id",
    Uuid::now_v7
);
