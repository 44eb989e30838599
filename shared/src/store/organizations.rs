//! Organizations: the caller's membership and the organization with it, authorization as
//! conditions, settings, names, creation, and the paginated Members list and audit log.

use aws_sdk_dynamodb::types::{Put, ReturnValuesOnConditionCheckFailure, Update};

use super::Store;
use super::expr::{Changes, absent, attr, exists};
use super::grants::ACTOR_ROLE;
use super::items::{
    EmailSlotItem, Entity, EventItem, MemberItem, OrgItem, UserItem, entity_of, from_item, to_item,
};
use super::keys;
use super::pages::{Page, PageRequest, cursor, position};
use super::plumbing::{Query, Tx, built, contention, key, number, s, stored};
use super::schema;
use crate::domain::authz::Grant;
use crate::domain::{
    AuditEvent, DomainError, EventAction, Membership, OrgId, OrgName, Organization, Role, Settings,
    Timestamp, UserId,
};

/// The name of the audit event a change's transaction writes with it.
pub(super) const EVENT: &str = "audit event";

const ORGANIZATION: &str = "organization";
const OWNER: &str = "owner's membership";
const OWNER_SLOT: &str = "owner's email slot";
const OWNER_USER: &str = "owner's organization count";

/// How many organizations one user may own, unless the deployment says otherwise.
pub const DEFAULT_MAX_OWNED: u32 = 20;

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
        let (organization, [membership, _]) = self.organization_with(org, [user, user]).await?;
        Ok(organization.zip(membership))
    }

    /// The organization, the sender's membership, and the three rate logs a send from them to
    /// `recipient` counts against, in one strongly consistent round trip; `None` unless the
    /// organization and the membership exist.
    pub async fn organization_for_sending(
        &self,
        org: &OrgId,
        sender: &UserId,
        recipient: &crate::domain::Email,
    ) -> Result<Option<(Organization, Membership, super::limits::RateLogs)>, DomainError> {
        let logs = super::limits::log_keys(org, sender, recipient);
        let mut wanted =
            vec![key(keys::org_pk(org), keys::ORG_SK), key(keys::org_pk(org), keys::member_sk(sender))];
        wanted.extend(logs.iter().cloned());
        let mut items = self.get_many(wanted).await?;
        let read = super::limits::RateLogs::among(&mut items, &logs)?;
        let (mut organization, mut membership) = (None, None);
        for item in items {
            match entity_of(&item) {
                Some(Entity::Org) => organization = Some(Organization::from(from_item::<OrgItem>(item)?)),
                Some(Entity::Member) => membership = Some(Membership::from(from_item::<MemberItem>(item)?)),
                _ => {}
            }
        }
        Ok(organization.zip(membership).map(|(o, m)| (o, m, read)))
    }

    /// The organization and two users' memberships of it (the actor and the one acted on), in
    /// one strongly consistent round trip.
    pub async fn organization_with(
        &self,
        org: &OrgId,
        users: [&UserId; 2],
    ) -> Result<(Option<Organization>, [Option<Membership>; 2]), DomainError> {
        // BatchGetItem refuses a key named twice (someone acting on themselves).
        let mut wanted = vec![key(keys::org_pk(org), keys::ORG_SK)];
        for user in users {
            let k = key(keys::org_pk(org), keys::member_sk(user));
            if !wanted.contains(&k) {
                wanted.push(k);
            }
        }
        let (mut organization, mut found) = (None, [None, None]);
        for item in self.get_many(wanted).await? {
            match entity_of(&item) {
                Some(Entity::Org) => organization = Some(Organization::from(from_item::<OrgItem>(item)?)),
                Some(Entity::Member) => {
                    let m = Membership::from(from_item::<MemberItem>(item)?);
                    for (slot, user) in found.iter_mut().zip(users) {
                        if &m.user_id == user {
                            *slot = Some(m.clone());
                        }
                    }
                }
                _ => {}
            }
        }
        Ok((organization, found))
    }

    /// One page of the Members list, in key order (by user id), strongly consistent.
    pub async fn members_page(
        &self,
        org: &OrgId,
        request: &PageRequest,
    ) -> Result<Page<Membership>, DomainError> {
        let partition = keys::org_pk(org);
        let pos = position(request, "members", org, &[schema::PK, schema::SK], |name, value| match name {
            schema::PK => value == partition,
            _ => value.starts_with(keys::MEMBER_PREFIX),
        })?;
        let query = Query::partition(partition.clone()).prefix(keys::MEMBER_PREFIX);
        let (items, last) = self.page(query, pos.limit, pos.start).await?;
        let members = items
            .into_iter()
            .map(|i| from_item::<MemberItem>(i).map(Membership::from))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items: members, next_cursor: cursor("members", org, last)? })
    }

    /// One page of the audit log, newest first.
    pub async fn events_page(
        &self,
        org: &OrgId,
        request: &PageRequest,
    ) -> Result<Page<AuditEvent>, DomainError> {
        let partition = keys::events_pk(org);
        let pos = position(request, "events", org, &[schema::PK, schema::SK], |name, value| match name {
            schema::PK => value == partition,
            _ => value.starts_with(keys::EVENT_PREFIX),
        })?;
        let query = Query::partition(partition.clone()).prefix(keys::EVENT_PREFIX).newest_first();
        let (items, last) = self.page(query, pos.limit, pos.start).await?;
        let events = items
            .into_iter()
            .map(|i| from_item::<EventItem>(i).map(|e| e.event))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items: events, next_cursor: cursor("events", org, last)? })
    }

    /// The put of one audit event, part of the transaction of the change it tells.
    pub(super) fn event_put(&self, event: &AuditEvent) -> Result<Put, DomainError> {
        self.put(to_item(&EventItem::from(event))?, absent())
    }

    /// Replaces the organization's settings, while `actor` still holds what `grant` rests on.
    pub async fn update_settings(
        &self,
        actor: &Membership,
        grant: &Grant,
        before: &Settings,
        settings: &Settings,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        let org = &actor.org_id;
        // The settings as read: a change decided on settings someone else changed meanwhile must
        // not silently revert theirs.
        let update = Changes::new()
            .set(attr("settings"), stored(settings)?)
            .when(attr("settings").eq(stored(before)?));
        let update = built(
            update
                .onto(self.update(key(keys::org_pk(org), keys::ORG_SK)))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .build(),
        )?;
        let mut event = AuditEvent::new(*org, actor.actor(), EventAction::SettingsChanged, now);
        for (name, old, new) in changes(before, settings)? {
            event = event.with(&name, format!("{old} -> {new}"));
        }
        let tx = Tx::new().update(ORGANIZATION, update).put(EVENT, self.event_put(&event)?);
        let tx = self.still_granted(tx, org, actor, grant)?;
        self.commit("settings change", tx).await.map_err(|e| {
            e.explain(|c| {
                if c.failed(ACTOR_ROLE) {
                    Some(DomainError::Forbidden(
                        "only the owner and admins may change the organization's permissions".into(),
                    ))
                } else if c.failed(ORGANIZATION) {
                    Some(match c.old_item(ORGANIZATION) {
                        Some(_) => DomainError::Stale("the organization's settings"),
                        None => DomainError::NotFound("organization"),
                    })
                } else {
                    None
                }
            })
        })
    }

    /// Renames the organization. The copies of the name on memberships and invitations follow
    /// through the stream (`sync-organization-name`).
    pub async fn rename(
        &self,
        actor: &Membership,
        grant: &Grant,
        from: &str,
        name: &OrgName,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        let org = &actor.org_id;
        let update = Changes::new().set(attr("name"), s(name.as_str())).when(exists());
        let update = built(update.onto(self.update(key(keys::org_pk(org), keys::ORG_SK))).build())?;
        let event = AuditEvent::new(*org, actor.actor(), EventAction::OrganizationRenamed, now)
            .with("from", from)
            .with("to", name);
        let tx = Tx::new().update(ORGANIZATION, update).put(EVENT, self.event_put(&event)?);
        let tx = self.still_granted(tx, org, actor, grant)?;
        self.commit("rename", tx).await.map_err(|e| {
            e.explain(|c| {
                if c.failed(ACTOR_ROLE) {
                    Some(DomainError::Forbidden(
                        "only the owner and admins may rename the organization".into(),
                    ))
                } else {
                    c.failed(ORGANIZATION).then_some(DomainError::NotFound("organization"))
                }
            })
        })
    }

    /// Creates an organization owned by `owner`, within the per-user limit of owned organizations
    /// (a condition on the owner's count, so parallel creations cannot pass it), with no credits:
    /// a person's trial credits go to their first organization alone, at registration, so
    /// creating (or being handed) organizations farms nothing. Operators grant the rest.
    pub async fn create_organization(
        &self,
        owner: &crate::domain::User,
        organization: &Organization,
        max_owned: u32,
    ) -> Result<Membership, DomainError> {
        let membership = Membership {
            org_id: organization.org_id,
            org_name: organization.name.clone(),
            user_id: owner.user_id.clone(),
            email: owner.email.clone(),
            role: Role::Owner,
            joined_at: organization.created_at,
            key: None,
        };
        let event = AuditEvent::new(
            organization.org_id,
            membership.actor(),
            EventAction::OrganizationCreated,
            organization.created_at,
        )
        .with("name", &organization.name);
        let tx = Tx::new()
            .update(OWNER_USER, self.count_owned(&owner.user_id, 1, max_owned)?)
            .put(ORGANIZATION, self.put(to_item(&OrgItem::from(organization))?, absent())?)
            .put(OWNER, self.put(to_item(&MemberItem::from(&membership))?, absent())?)
            .put(
                OWNER_SLOT,
                self.put(
                    to_item(&EmailSlotItem::member(&organization.org_id, &owner.user_id, &owner.email))?,
                    absent(),
                )?,
            )
            .put(EVENT, self.event_put(&event)?);
        let tx = self.new_credits(
            tx,
            &organization.org_id,
            crate::domain::Credits::ZERO,
            organization.created_at,
        )?;
        self.commit("organization creation", tx).await.map_err(|e| {
            e.explain(|c| {
                if c.failed(OWNER_USER) {
                    Some(owned_limit(c.old_item(OWNER_USER), max_owned))
                } else {
                    (c.failed(ORGANIZATION) || c.failed(OWNER) || c.failed(OWNER_SLOT)).then(contention)
                }
            })
        })?;
        Ok(membership)
    }

    /// Changes a user's count of owned organizations by `delta`; an increase is refused at `max`.
    /// Users registered before the count was kept own one, their personal organization.
    pub(super) fn count_owned(&self, user: &UserId, delta: i32, max: u32) -> Result<Update, DomainError> {
        let owned = attr("owned_orgs");
        let mut changes = Changes::new().count(owned.clone(), number(1), number(delta)).when(exists());
        if delta > 0 {
            changes = changes.when(owned.missing().or(owned.lt(number(max))));
        }
        built(
            changes
                .onto(self.update(key(keys::user_pk(user), keys::USER_SK)))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .build(),
        )
    }

    /// The organizations whose names are copied onto `org`'s memberships: every membership whose
    /// copy differs from `name` gets it. Safe to repeat; returns how many copies changed.
    pub async fn copy_org_name(&self, org: &OrgId) -> Result<usize, DomainError> {
        let Some(item) = self.get(keys::org_pk(org), keys::ORG_SK).await? else {
            return Ok(0);
        };
        let name = from_item::<OrgItem>(item)?.name;
        let mut changed = 0;
        for item in self.query(Query::partition(keys::org_pk(org)).prefix(keys::MEMBER_PREFIX)).await? {
            let member = from_item::<MemberItem>(item)?;
            if member.org_name == name {
                continue;
            }
            let key = key(member.pk, member.sk);
            if self.set_copied_name(key, &name).await? {
                changed += 1;
            }
        }
        changed += self.copy_org_name_to_invitations(org, &name).await?;
        Ok(changed)
    }

    /// Writes `name` as the copy on one item, unless it is there already (no write, no record).
    pub(super) async fn set_copied_name(
        &self,
        key: super::items::Item,
        name: &str,
    ) -> Result<bool, DomainError> {
        let copy = attr("org_name");
        self.update_if(key, Changes::new().set(copy.clone(), s(name)).when(exists()).when(copy.ne(s(name))))
            .await
    }
}

/// The fields of the settings document that differ, as (name, old, new) text.
fn changes(before: &Settings, after: &Settings) -> Result<Vec<(String, String, String)>, DomainError> {
    let encode = |s: &Settings| {
        serde_json::to_value(s).map_err(|e| DomainError::Corrupt(format!("cannot encode settings: {e}")))
    };
    let (old, new) = (encode(before)?, encode(after)?);
    let mut out = Vec::new();
    if let (Some(old), Some(new)) = (old.as_object(), new.as_object()) {
        for (name, value) in new {
            let was = old.get(name).cloned().unwrap_or_default();
            if &was != value {
                out.push((name.clone(), was.to_string(), value.to_string()));
            }
        }
    }
    Ok(out)
}

/// The 409 of a creation or transfer past the limit of owned organizations.
pub(super) fn owned_limit(old_user: Option<super::items::Item>, max: u32) -> DomainError {
    match old_user.and_then(|i| from_item::<UserItem>(i).ok()) {
        Some(_) => DomainError::Conflict(format!("a user may own at most {max} organizations")),
        None => DomainError::NotFound("user"),
    }
}
