//! Who may do what in an organization: the one table every function asks. A function never
//! compares roles itself; the store then carries the role the decision rested on as a condition,
//! so a demotion between the read and the write cannot slip through.

use std::fmt;

use super::{DomainError, InviteRole, Role};

/// What a member asks to do in their organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// See the organization and its Members page.
    Read,
    /// Invite someone with the given role.
    Invite(InviteRole),
    /// Remove another member.
    RemoveMember,
    /// Make a member an admin, or an admin a member.
    ChangeRole,
    /// Hand the organization to another member.
    TransferOwnership,
    /// Withdraw a pending invitation someone else sent (one's own may always be withdrawn).
    RevokeInvitation,
    /// Remove oneself.
    Leave,
}

impl Action {
    /// Every action, for the printed table.
    pub const ALL: [Action; 8] = [
        Action::Read,
        Action::Invite(InviteRole::Member),
        Action::Invite(InviteRole::Admin),
        Action::RemoveMember,
        Action::ChangeRole,
        Action::TransferOwnership,
        Action::RevokeInvitation,
        Action::Leave,
    ];
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Read => f.write_str("read the organization"),
            Action::Invite(InviteRole::Member) => f.write_str("invite a member"),
            Action::Invite(InviteRole::Admin) => f.write_str("invite an admin"),
            Action::RemoveMember => f.write_str("remove a member"),
            Action::ChangeRole => f.write_str("change a member's role"),
            Action::TransferOwnership => f.write_str("transfer ownership"),
            Action::RevokeInvitation => f.write_str("revoke an invitation"),
            Action::Leave => f.write_str("leave"),
        }
    }
}

/// Whether `role` may do `action`; the refusal says who may.
pub fn check(role: Role, action: Action) -> Result<(), DomainError> {
    let manager = matches!(role, Role::Owner | Role::Admin);
    let allowed = match action {
        Action::Read => true,
        Action::Invite(_) | Action::RemoveMember | Action::ChangeRole | Action::RevokeInvitation => manager,
        Action::TransferOwnership => role == Role::Owner,
        // The owner cannot leave: an organization always has exactly one.
        Action::Leave => role != Role::Owner,
    };
    if allowed {
        return Ok(());
    }
    Err(match action {
        Action::Leave => DomainError::Conflict("the owner cannot leave their organization".into()),
        Action::Invite(_) => DomainError::Forbidden("only the owner and admins may invite".into()),
        Action::TransferOwnership => DomainError::Forbidden("only the owner may transfer ownership".into()),
        _ => DomainError::Forbidden(format!("only the owner and admins may {action}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole table, printed (`cargo test -p orgs authz -- --nocapture`) and held.
    #[test]
    fn the_authorization_table() {
        let roles = [Role::Owner, Role::Admin, Role::Member];
        let mut printed = String::from("action                 | owner | admin | member\n");
        let mut table = Vec::new();
        for action in Action::ALL {
            let row: Vec<bool> = roles.iter().map(|r| check(*r, action).is_ok()).collect();
            printed.push_str(&format!(
                "{:<22} | {:<5} | {:<5} | {}\n",
                action.to_string(),
                row[0],
                row[1],
                row[2]
            ));
            table.push((action, row));
        }
        println!("{printed}");
        let expected = vec![
            (Action::Read, vec![true, true, true]),
            (Action::Invite(InviteRole::Member), vec![true, true, false]),
            (Action::Invite(InviteRole::Admin), vec![true, true, false]),
            (Action::RemoveMember, vec![true, true, false]),
            (Action::ChangeRole, vec![true, true, false]),
            (Action::TransferOwnership, vec![true, false, false]),
            (Action::RevokeInvitation, vec![true, true, false]),
            (Action::Leave, vec![false, true, true]),
        ];
        assert_eq!(table, expected);
    }

    #[test]
    fn a_refusal_says_who_may() {
        match check(Role::Member, Action::RemoveMember) {
            Err(DomainError::Forbidden(detail)) => {
                assert_eq!(detail, "only the owner and admins may remove a member")
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(check(Role::Owner, Action::Leave), Err(DomainError::Conflict(_))));
    }
}
