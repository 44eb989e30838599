//! The grant re-checks: every write that rests on a [`Grant`] carries, as conditions, that its
//! actor still holds one of the grant's roles and that the organization still grants the
//! permission it rests on, at the moment of the write. A cancelled write's reasons name which
//! was lost ([`lost_grant`]).

use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, ReturnValuesOnConditionCheckFailure};

use super::Store;
use super::expr::attr;
use super::keys;
use super::plumbing::{Cancelled, Tx, built, key, stored};
use crate::domain::authz::Grant;
use crate::domain::{DomainError, Membership, OrgId, Role, UserId};

/// The names of the authorization conditions every write that rests on a [`Grant`] carries.
pub(super) const ACTOR_ROLE: &str = "actor's role";
pub(super) const PERMISSION: &str = "organization's permission";

impl Store {
    /// Adds to `tx` the conditions `grant` rests on: `user` still holds one of its roles and, when
    /// it rests on a permission, the organization still grants it.
    pub(super) fn still_granted(
        &self,
        tx: Tx,
        org: &OrgId,
        actor: &Membership,
        grant: &Grant,
    ) -> Result<Tx, DomainError> {
        // A key's grant is its scopes, which never change: the key must still be there.
        if let Some(key) = &actor.key {
            return Ok(tx.check(super::service_accounts::KEY_IN_FORCE, self.key_in_force(key)?));
        }
        let user = &actor.user_id;
        let roles = grant.roles.iter().map(stored).collect::<Result<Vec<_>, _>>()?;
        let check = attr("role").is_in(roles).onto(
            self.condition(key(keys::org_pk(org), keys::member_sk(user)))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld),
        );
        let tx = tx.check(ACTOR_ROLE, built(check.build())?);
        match grant.permission {
            None => Ok(tx),
            Some(permission) => Ok(tx.check(PERMISSION, self.permission_on(org, permission)?)),
        }
    }

    /// Condition that the organization still grants `permission` at the moment of the write.
    pub(super) fn permission_on(
        &self,
        org: &OrgId,
        permission: crate::domain::Permission,
    ) -> Result<ConditionCheck, DomainError> {
        let granted = attr("settings").dot(permission.name()).eq(AttributeValue::Bool(true));
        built(granted.onto(self.condition(key(keys::org_pk(org), keys::ORG_SK))).build())
    }

    /// Condition that `user` is still the owner or an admin at the moment of the write.
    pub(super) fn still_manager(&self, org: &OrgId, user: &UserId) -> Result<ConditionCheck, DomainError> {
        let manager = attr("role").is_in(vec![stored(&Role::Owner)?, stored(&Role::Admin)?]);
        built(manager.onto(self.condition(key(keys::org_pk(org), keys::member_sk(user)))).build())
    }
}

/// The refusal of a write whose actor lost what their grant rested on meanwhile: removed, the
/// organization is none of their business any more (404); demoted, 403.
pub(super) fn lost_grant(c: &Cancelled, what: &str) -> Option<DomainError> {
    if c.failed(ACTOR_ROLE) {
        Some(match c.old_item(ACTOR_ROLE) {
            Some(_) => DomainError::Forbidden(format!("your role no longer allows you to {what}")),
            None => DomainError::NotFound("organization"),
        })
    } else if c.failed(PERMISSION) {
        Some(DomainError::Forbidden(format!("this organization no longer allows members to {what}")))
    } else {
        None
    }
}
