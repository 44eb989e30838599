//! Who may do what in an organization: the one table every function asks, from the actor's role
//! and the organization's settings. A function never compares roles itself. The answer, a
//! [`Grant`], names what the decision rested on; the store writes it as conditions, so a demotion
//! or a permission turned off between the read and the write cannot slip through.

use std::fmt;

use super::{DomainError, InviteRole, Membership, Permission, Role, Settings};

/// What a member asks to do in their organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// See the organization, its members and its invitations.
    Read,
    /// Invite someone with the given role.
    Invite(InviteRole),
    /// Send an invitation someone else sent again (one's own: see [`Action::Invite`]).
    ResendInvitation,
    /// Withdraw a pending invitation someone else sent (one's own may always be withdrawn).
    RevokeInvitation,
    /// Remove another member.
    RemoveMember,
    /// Make a member an admin, or an admin a member.
    ChangeRole,
    /// Hand the organization to another member.
    TransferOwnership,
    /// Remove oneself.
    Leave,
    /// Change the permissions and settings document.
    UpdateSettings,
    Rename,
    /// Read the audit log.
    ReadEvents,
    /// Connect or change the organization's cloud account.
    ConfigureAccount,
    /// Start and stop the organization's clusters.
    OperateClusters,
    /// Create and terminate clusters.
    ManageClusters,
    /// Open and close a cluster's service ports.
    OpenPorts,
    /// See who has an account on a cluster, and rotate its agent's token.
    ManageClusterUsers,
    /// Make and delete service accounts, and make and revoke their API keys.
    ManageServiceAccounts,
    /// Register, rotate and delete webhook endpoints, read their deliveries, redeliver.
    ManageWebhooks,
}

impl Action {
    /// Every action, for the printed table.
    pub const ALL: [Action; 19] = [
        Action::Read,
        Action::Invite(InviteRole::Member),
        Action::Invite(InviteRole::Admin),
        Action::ResendInvitation,
        Action::RevokeInvitation,
        Action::RemoveMember,
        Action::ChangeRole,
        Action::TransferOwnership,
        Action::Leave,
        Action::UpdateSettings,
        Action::Rename,
        Action::ReadEvents,
        Action::ConfigureAccount,
        Action::OperateClusters,
        Action::ManageClusters,
        Action::OpenPorts,
        Action::ManageClusterUsers,
        Action::ManageServiceAccounts,
        Action::ManageWebhooks,
    ];

    /// The action's name on the wire (the organization view's `abilities`).
    pub fn key(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Invite(InviteRole::Member) => "invite_member",
            Action::Invite(InviteRole::Admin) => "invite_admin",
            Action::ResendInvitation => "resend_invitation",
            Action::RevokeInvitation => "revoke_invitation",
            Action::RemoveMember => "remove_member",
            Action::ChangeRole => "change_role",
            Action::TransferOwnership => "transfer_ownership",
            Action::Leave => "leave",
            Action::UpdateSettings => "update_settings",
            Action::Rename => "rename",
            Action::ReadEvents => "read_events",
            Action::ConfigureAccount => "configure_account",
            Action::OperateClusters => "operate_clusters",
            Action::ManageClusters => "manage_clusters",
            Action::OpenPorts => "open_ports",
            Action::ManageClusterUsers => "manage_cluster_users",
            Action::ManageServiceAccounts => "manage_service_accounts",
            Action::ManageWebhooks => "manage_webhooks",
        }
    }

    /// The permission that lets a plain member do this, if any.
    pub fn permission(self) -> Option<Permission> {
        match self {
            Action::Invite(InviteRole::Member) => Some(Permission::MembersCanInvite),
            Action::ManageClusters => Some(Permission::MembersCanManageClusters),
            Action::OpenPorts => Some(Permission::MembersCanOpenPorts),
            _ => None,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Read => "read the organization",
            Action::Invite(InviteRole::Member) => "invite a member",
            Action::Invite(InviteRole::Admin) => "invite an admin",
            Action::ResendInvitation => "resend an invitation",
            Action::RevokeInvitation => "revoke an invitation",
            Action::RemoveMember => "remove a member",
            Action::ChangeRole => "change a member's role",
            Action::TransferOwnership => "transfer ownership",
            Action::Leave => "leave",
            Action::UpdateSettings => "change the organization's permissions",
            Action::Rename => "rename the organization",
            Action::ReadEvents => "read the audit log",
            Action::ConfigureAccount => "configure the cloud account",
            Action::OperateClusters => "start and stop clusters",
            Action::ManageClusters => "create and terminate clusters",
            Action::OpenPorts => "open and close ports",
            Action::ManageClusterUsers => "manage a cluster's users and agent",
            Action::ManageServiceAccounts => "manage service accounts and API keys",
            Action::ManageWebhooks => "manage webhooks",
        })
    }
}

const MANAGERS: &[Role] = &[Role::Owner, Role::Admin];
const OWNER: &[Role] = &[Role::Owner];
const EVERYONE: &[Role] = &[Role::Owner, Role::Admin, Role::Member];
const NOT_OWNER: &[Role] = &[Role::Admin, Role::Member];
const MEMBER: &[Role] = &[Role::Member];

/// What an allowed action rested on: the actor must still hold one of `roles` when the write
/// lands and, if `permission` is set, the organization must still grant it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub roles: &'static [Role],
    pub permission: Option<Permission>,
}

impl Grant {
    /// Whether it rests on the actor managing members (owner or admin) and nothing else.
    pub fn roles_only(roles: &'static [Role]) -> Self {
        Self { roles, permission: None }
    }
}

/// What `actor` (a member, or a key standing in for one) may do in an organization with
/// `settings`: every action, allowed or with the refusal's words, so that a client can show (not
/// decide) the same answer.
pub fn abilities(actor: &Membership, settings: &Settings) -> Vec<Ability> {
    Action::ALL
        .iter()
        .map(|&action| {
            let refusal = may(actor, settings, action).err();
            Ability {
                action: action.key(),
                allowed: refusal.is_none(),
                reason: refusal.map(|e| match e {
                    DomainError::Forbidden(why) | DomainError::Conflict(why) => why,
                    other => other.to_string(),
                }),
            }
        })
        .collect()
}

/// One action and whether the caller may do it now.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Ability {
    /// `read`, `invite_member`, `invite_admin`, `resend_invitation`, `revoke_invitation`,
    /// `remove_member`, `change_role`, `transfer_ownership`, `leave`, `update_settings`,
    /// `rename`, `read_events`, `configure_account`, `operate_clusters`, `manage_clusters`,
    /// `open_ports`, `manage_cluster_users`, `manage_service_accounts` or `manage_webhooks`.
    pub action: &'static str,
    pub allowed: bool,
    /// Why not, in words, when not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Whether `actor` may do `action` in an organization with `settings`: a member by the table
/// below ([`check`]), a service account's key by its scopes alone. Every function asks this.
pub fn may(actor: &Membership, settings: &Settings, action: Action) -> Result<Grant, DomainError> {
    match &actor.key {
        // The grant of a key rests on the key itself (the store's condition that it is still in
        // force), not on a role.
        Some(key) if key.scopes.allows(action) => Ok(Grant::roles_only(MEMBER)),
        Some(_) if !action.keyable() => {
            Err(DomainError::Forbidden(format!("an API key cannot {action}: only people may")))
        }
        Some(_) => Err(DomainError::Forbidden(format!(
            "this API key's scopes do not include {} ({action})",
            action.key()
        ))),
        None => check(actor.role, settings, action),
    }
}

/// Whether a member with `role` may do `action` in an organization with `settings`; the refusal
/// says who may.
pub(crate) fn check(role: Role, settings: &Settings, action: Action) -> Result<Grant, DomainError> {
    let by_role = match action {
        Action::Read | Action::OperateClusters => EVERYONE,
        Action::TransferOwnership => OWNER,
        // The owner cannot leave: an organization always has exactly one.
        Action::Leave => NOT_OWNER,
        _ => MANAGERS,
    };
    if by_role.contains(&role) {
        return Ok(Grant::roles_only(by_role));
    }
    if let Some(permission) = action.permission().filter(|p| p.granted_by(settings))
        && role == Role::Member
    {
        return Ok(Grant { roles: MEMBER, permission: Some(permission) });
    }
    Err(match action {
        Action::Leave => DomainError::Conflict(
            "the owner cannot leave their organization: transfer ownership first".into(),
        ),
        Action::TransferOwnership => DomainError::Forbidden("only the owner may transfer ownership".into()),
        Action::Invite(InviteRole::Admin) => {
            DomainError::Forbidden("only the owner and admins may invite an admin".into())
        }
        _ => match action.permission() {
            Some(p) => {
                DomainError::Forbidden(format!("only the owner and admins may {action} (unless {p} is on)"))
            }
            None => DomainError::Forbidden(format!("only the owner and admins may {action}")),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(permission: Option<Permission>) -> Settings {
        Settings {
            members_can_invite: permission == Some(Permission::MembersCanInvite),
            members_can_manage_clusters: permission == Some(Permission::MembersCanManageClusters),
            members_can_open_ports: permission == Some(Permission::MembersCanOpenPorts),
            ..Settings::default()
        }
    }

    /// The whole table, printed (`cargo test -p orgs authz -- --nocapture`) and held: owner,
    /// admin, a member with no permission, then a member with each permission.
    #[test]
    fn the_authorization_table() {
        let mut actors = vec![
            ("owner", Role::Owner, with(None)),
            ("admin", Role::Admin, with(None)),
            ("member", Role::Member, with(None)),
        ];
        for p in Permission::ALL {
            actors.push((p.name(), Role::Member, with(Some(p))));
        }
        let mut printed = format!("{:<38}", "action");
        for (name, _, _) in &actors {
            printed.push_str(&format!(" | {name}"));
        }
        printed.push('\n');
        let mut table = Vec::new();
        for action in Action::ALL {
            let row: Vec<u8> =
                actors.iter().map(|(_, role, s)| u8::from(check(*role, s, action).is_ok())).collect();
            printed.push_str(&format!("{:<38}", action.to_string()));
            for ((name, _, _), allowed) in actors.iter().zip(&row) {
                printed.push_str(&format!(
                    " | {:<w$}",
                    if *allowed == 1 { "yes" } else { "-" },
                    w = name.len()
                ));
            }
            printed.push('\n');
            table.push((action, row));
        }
        println!("{printed}");
        //          owner admin member +invite +manage_clusters +open_ports
        let expected = vec![
            (Action::Read, vec![1, 1, 1, 1, 1, 1]),
            (Action::Invite(InviteRole::Member), vec![1, 1, 0, 1, 0, 0]),
            (Action::Invite(InviteRole::Admin), vec![1, 1, 0, 0, 0, 0]),
            (Action::ResendInvitation, vec![1, 1, 0, 0, 0, 0]),
            (Action::RevokeInvitation, vec![1, 1, 0, 0, 0, 0]),
            (Action::RemoveMember, vec![1, 1, 0, 0, 0, 0]),
            (Action::ChangeRole, vec![1, 1, 0, 0, 0, 0]),
            (Action::TransferOwnership, vec![1, 0, 0, 0, 0, 0]),
            (Action::Leave, vec![0, 1, 1, 1, 1, 1]),
            (Action::UpdateSettings, vec![1, 1, 0, 0, 0, 0]),
            (Action::Rename, vec![1, 1, 0, 0, 0, 0]),
            (Action::ReadEvents, vec![1, 1, 0, 0, 0, 0]),
            (Action::ConfigureAccount, vec![1, 1, 0, 0, 0, 0]),
            (Action::OperateClusters, vec![1, 1, 1, 1, 1, 1]),
            (Action::ManageClusters, vec![1, 1, 0, 0, 1, 0]),
            (Action::OpenPorts, vec![1, 1, 0, 0, 0, 1]),
            (Action::ManageClusterUsers, vec![1, 1, 0, 0, 0, 0]),
            (Action::ManageServiceAccounts, vec![1, 1, 0, 0, 0, 0]),
            (Action::ManageWebhooks, vec![1, 1, 0, 0, 0, 0]),
        ];
        assert_eq!(table, expected);
    }

    #[test]
    fn a_grant_by_permission_carries_the_permission() {
        let open = with(Some(Permission::MembersCanInvite));
        let grant = check(Role::Member, &open, Action::Invite(InviteRole::Member));
        assert!(matches!(
            grant,
            Ok(Grant { roles: [Role::Member], permission: Some(Permission::MembersCanInvite) })
        ));
        // An admin's grant rests on the role alone, whatever the settings say.
        let grant = check(Role::Admin, &open, Action::Invite(InviteRole::Member));
        assert!(matches!(grant, Ok(Grant { permission: None, .. })));
    }

    #[test]
    fn a_refusal_says_who_may() {
        match check(Role::Member, &Settings::default(), Action::RemoveMember) {
            Err(DomainError::Forbidden(detail)) => {
                assert_eq!(detail, "only the owner and admins may remove a member")
            }
            other => panic!("{other:?}"),
        }
        match check(Role::Member, &Settings::default(), Action::Invite(InviteRole::Member)) {
            Err(DomainError::Forbidden(detail)) => {
                assert_eq!(
                    detail,
                    "only the owner and admins may invite a member (unless members_can_invite is on)"
                )
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            check(Role::Owner, &Settings::default(), Action::Leave),
            Err(DomainError::Conflict(_))
        ));
    }
}
