//! Users: registration (with the personal organization) and the dashboard's reads.

use super::Store;
use super::expr::{Changes, absent, attr, exists};
use super::items::{
    EmailSlotItem, Entity, InvitationItem, MemberItem, OrgItem, UserItem, entity_of, from_item, to_item,
};
use super::keys;
use super::organizations::EVENT;
use super::plumbing::{Query, Tx};
use crate::domain::{
    AuditEvent, Credits, DomainError, Email, EventAction, Invitation, Membership, Organization, Role,
    Timestamp, User, UserId,
};

/// What registering a user did.
#[derive(Debug, Clone, PartialEq)]
pub enum Registration {
    Created { user: User, organization: Organization },
    AlreadyRegistered,
}

const USER: &str = "user";
const ORG: &str = "organization";
const OWNER: &str = "owner's membership";
const OWNER_SLOT: &str = "owner's email slot";

impl Store {
    /// Creates the user and their personal organization, owned by them, in one transaction.
    /// The organization gets `trial` credits. Idempotent: when the user exists already nothing is
    /// written.
    pub async fn register(
        &self,
        user_id: &UserId,
        email: &Email,
        trial: Credits,
        now: Timestamp,
    ) -> Result<Registration, DomainError> {
        let organization = Organization::personal_for(user_id, email, now);
        let user = User {
            user_id: user_id.clone(),
            email: email.clone(),
            personal_org_id: organization.org_id,
            created_at: now,
        };
        let membership = Membership {
            org_id: organization.org_id,
            org_name: organization.name.clone(),
            user_id: user_id.clone(),
            email: email.clone(),
            role: Role::Owner,
            joined_at: now,
            key: None,
        };
        let event =
            AuditEvent::new(organization.org_id, membership.actor(), EventAction::OrganizationCreated, now)
                .with("name", &organization.name)
                .with("personal", true);
        let tx = Tx::new()
            .put(USER, self.put(to_item(&UserItem::from(&user))?, absent())?)
            .put(ORG, self.put(to_item(&OrgItem::from(&organization))?, absent())?)
            .put(OWNER, self.put(to_item(&MemberItem::from(&membership))?, absent())?)
            .put(
                OWNER_SLOT,
                self.put(to_item(&EmailSlotItem::member(&organization.org_id, user_id, email))?, absent())?,
            )
            .put(EVENT, self.event_put(&event)?);
        let tx = self.new_credits(tx, &organization.org_id, trial, now)?;
        match self.commit("registration", tx).await {
            Ok(()) => Ok(Registration::Created { user, organization }),
            Err(e) if e.failed(USER) => Ok(Registration::AlreadyRegistered),
            Err(e) => Err(e.explain(|_| None)),
        }
    }

    pub async fn user(&self, user_id: &UserId) -> Result<Option<User>, DomainError> {
        self.get(keys::user_pk(user_id), keys::USER_SK)
            .await?
            .map(|i| from_item::<UserItem>(i).map(User::from))
            .transpose()
    }

    /// The user's memberships and the invitations addressed to their email that are still open,
    /// read concurrently from the GSI.
    pub async fn dashboard(
        &self,
        user: &User,
        now: Timestamp,
    ) -> Result<(Vec<Membership>, Vec<Invitation>), DomainError> {
        let (memberships, invitations) = tokio::try_join!(
            self.query(Query::gsi1(keys::member_gsi_pk(&user.user_id))),
            self.query(Query::gsi1(keys::invitation_gsi_pk(&user.email))),
        )?;
        let memberships = memberships
            .into_iter()
            .filter(|i| entity_of(i) == Some(Entity::Member))
            .map(|i| from_item::<MemberItem>(i).map(Membership::from))
            .collect::<Result<Vec<_>, _>>()?;
        let invitations = invitations
            .into_iter()
            .filter(|i| entity_of(i) == Some(Entity::Invitation))
            .map(|i| from_item::<InvitationItem>(i).map(Invitation::from))
            .filter(|r| r.as_ref().map_or(true, |inv| inv.is_open(now)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((memberships, invitations))
    }

    /// The person's address follows the verified email of their identity provider: `email` from a
    /// token issued at `as_of` replaces the stored one, unless a newer token's already did (a
    /// token issued before the change, still valid for its hour, never takes it back). Whether
    /// it changed.
    pub async fn follow_email(&self, user: &UserId, email: &Email, as_of: i64) -> Result<bool, DomainError> {
        use super::plumbing::{key, number, s};
        let (address, as_of_attr) = (attr("email"), attr("email_as_of"));
        let changes = Changes::new()
            .set(address.clone(), s(email.as_str()))
            .set(as_of_attr.clone(), number(as_of))
            .when(exists())
            .when(address.ne(s(email.as_str())))
            .when(as_of_attr.missing().or(as_of_attr.lt(number(as_of))));
        self.update_if(key(keys::user_pk(user), keys::USER_SK), changes).await
    }

    /// Moves a membership to the person's new address: its copy of the email, and the
    /// organization's slot for it (one membership or pending invitation per address). Refused
    /// (and tried again at their next visit) while the new address has a pending invitation to
    /// that organization or the membership changed meanwhile.
    pub async fn move_membership_email(
        &self,
        membership: &Membership,
        to: &Email,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        use super::plumbing::{built, key, s};
        let org = &membership.org_id;
        let member = Changes::new()
            .set(attr("email"), s(to.as_str()))
            .when(attr("email").eq(s(membership.email.as_str())));
        let member = built(
            member.onto(self.update(key(keys::org_pk(org), keys::member_sk(&membership.user_id)))).build(),
        )?;
        let mine = absent().or(attr("user_id").eq(s(membership.user_id.as_str())));
        let old_slot = built(
            mine.onto(self.delete(key(keys::org_pk(org), keys::email_slot_sk(&membership.email)))).build(),
        )?;
        let new_slot = built(
            self.put_if(
                to_item(&EmailSlotItem::member(org, &membership.user_id, to))?,
                super::invitations::slot_free(now)?,
            )
            .build(),
        )?;
        let tx = Tx::new()
            .update("membership", member)
            .delete("old email slot", old_slot)
            .put("new email slot", new_slot);
        self.commit("email change", tx).await.map_err(|e| {
            e.explain(|_| {
                Some(DomainError::Conflict(format!("{to} cannot take this membership's place yet")))
            })
        })
    }
}
