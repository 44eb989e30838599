//! Roles within an organization and what each may do.

use serde::{Deserialize, Serialize};

/// A member's role. There is exactly one owner per organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Admin,
    Member,
}

impl Role {
    /// Owners and admins invite and remove members; every member may read.
    pub fn can_manage_members(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }
}

/// The roles an invitation may grant: ownership is never handed out by invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InviteRole {
    Admin,
    Member,
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
    fn only_owners_and_admins_manage_members() {
        assert!(Role::Owner.can_manage_members());
        assert!(Role::Admin.can_manage_members());
        assert!(!Role::Member.can_manage_members());
    }

    #[test]
    fn an_invitation_cannot_grant_ownership() -> Result<(), serde_json::Error> {
        assert!(serde_json::from_str::<InviteRole>("\"owner\"").is_err());
        assert_eq!(Role::from(serde_json::from_str::<InviteRole>("\"admin\"")?), Role::Admin);
        Ok(())
    }
}
