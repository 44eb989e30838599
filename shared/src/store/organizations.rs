//! Organizations: the caller's membership, the organization with it, and the Members page.

use aws_sdk_dynamodb::types::ConditionCheck;

use super::Store;
use super::items::{EmailSlotItem, Entity, MemberItem, OrgItem, entity_of, from_item};
use super::keys;
use super::plumbing::{Query, built, key, stored};
use crate::domain::{DomainError, Membership, OrgId, OrgMembers, Organization, Role, Timestamp, UserId};

impl Store {
    /// The caller's membership of an organization, read strongly consistent: authorization
    /// follows a removal at once.
    pub async fn membership(&self, org: &OrgId, user: &UserId) -> Result<Option<Membership>, DomainError> {
        self.get(keys::org_pk(org), keys::member_sk(user))
            .await?
            .map(|i| from_item::<MemberItem>(i).map(Membership::from))
            .transpose()
    }

    /// The organization and the caller's membership in one round trip; `None` unless both exist.
    pub async fn organization_for(
        &self,
        org: &OrgId,
        user: &UserId,
    ) -> Result<Option<(Organization, Membership)>, DomainError> {
        let items = self
            .get_many(vec![
                key(keys::org_pk(org), keys::ORG_SK),
                key(keys::org_pk(org), keys::member_sk(user)),
            ])
            .await?;
        let (mut organization, mut membership) = (None, None);
        for item in items {
            match entity_of(&item) {
                Some(Entity::Org) => organization = Some(Organization::from(from_item::<OrgItem>(item)?)),
                Some(Entity::Member) => membership = Some(Membership::from(from_item::<MemberItem>(item)?)),
                _ => {}
            }
        }
        Ok(organization.zip(membership))
    }

    /// The whole Members page in one strongly consistent query of the organization's partition.
    pub async fn org_members(&self, org: &OrgId, now: Timestamp) -> Result<Option<OrgMembers>, DomainError> {
        let mut organization = None;
        let mut members = Vec::new();
        let mut pending = Vec::new();
        for item in self.query(Query::partition(keys::org_pk(org))).await? {
            match entity_of(&item) {
                Some(Entity::Org) => organization = Some(Organization::from(from_item::<OrgItem>(item)?)),
                Some(Entity::Member) => members.push(Membership::from(from_item::<MemberItem>(item)?)),
                Some(Entity::Email) => {
                    pending.extend(from_item::<EmailSlotItem>(item)?.pending_invitation(now))
                }
                _ => {}
            }
        }
        members.sort_by(|a, b| {
            a.joined_at.cmp(&b.joined_at).then_with(|| a.email.as_str().cmp(b.email.as_str()))
        });
        pending.sort_by_key(|a| a.created_at);
        Ok(organization.map(|organization| OrgMembers { organization, members, pending }))
    }

    /// Condition that `user` is still a member of `org` whose role manages members (invites and
    /// removes) at the moment of the write.
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
