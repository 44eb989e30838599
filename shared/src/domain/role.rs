//! Roles within an organization; what each may do is in `authz`.

use serde::{Deserialize, Serialize};

/// A member's role. There is exactly one owner per organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Admin,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }
}

/// The roles an invitation may grant: ownership is never handed out by invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum InviteRole {
    Admin,
    Member,
}

impl InviteRole {
    pub fn as_str(self) -> &'static str {
        Role::from(self).as_str()
    }
}

impl From<InviteRole> for Role {
    fn from(value: InviteRole) -> Self {
        match value {
            InviteRole::Admin => Role::Admin,
            InviteRole::Member => Role::Member,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invitation_cannot_grant_ownership() -> Result<(), serde_json::Error> {
        assert!(serde_json::from_str::<InviteRole>("\"owner\"").is_err());
        assert_eq!(Role::from(serde_json::from_str::<InviteRole>("\"admin\"")?), Role::Admin);
        Ok(())
    }
}
