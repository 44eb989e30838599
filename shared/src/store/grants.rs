//! The grant re-checks: every write that rests on a [`Grant`] carries, as conditions, that its
//! actor still holds one of the grant's roles and that the organization still grants the
//! permission it rests on, at the moment of the write. A cancelled write's reasons name which
//! was lost ([`lost_grant`]).

use aws_sdk_dynamodb::types::{ConditionCheck, ReturnValuesOnConditionCheckFailure};

use super::Store;
use super::keys;
use super::plumbing::{Cancelled, Tx, built, key, stored};
use crate::domain::authz::Grant;
use crate::domain::{DomainError, OrgId, Role, UserId};

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
        user: &UserId,
        grant: &Grant,
    ) -> Result<Tx, DomainError> {
        let mut check = self
            .condition(key(keys::org_pk(org), keys::member_sk(user)))
            .expression_attribute_names("#role", "role")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let mut names = Vec::new();
        for (i, role) in grant.roles.iter().enumerate() {
            let name = format!(":role{i}");
            check = check.expression_attribute_values(&name, stored(role)?);
            names.push(name);
        }
        let tx = tx.check(
            ACTOR_ROLE,
            built(check.condition_expression(format!("#role IN ({})", names.join(", "))).build())?,
        );
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
        built(
            self.condition(key(keys::org_pk(org), keys::ORG_SK))
                .condition_expression("settings.#permission = :on")
                .expression_attribute_names("#permission", permission.name())
                .expression_attribute_values(":on", aws_sdk_dynamodb::types::AttributeValue::Bool(true))
                .build(),
        )
    }

    /// Condition that `user` is still the owner or an admin at the moment of the write.
    pub(super) fn still_manager(&self, org: &OrgId, user: &UserId) -> Result<ConditionCheck, DomainError> {
        built(
            self.condition(key(keys::org_pk(org), keys::member_sk(user)))
                .condition_expression("#role IN (:owner, :admin)")
                .expression_attribute_names("#role", "role")
                .expression_attribute_values(":owner", stored(&Role::Owner)?)
                .expression_attribute_values(":admin", stored(&Role::Admin)?)
                .build(),
        )
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
