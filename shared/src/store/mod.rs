//! The one DynamoDB table behind the service.
//!
//! Every rule two requests could race on is a condition in the write that depends on it:
//! one membership per user and organization (`MEMBER#` put with `attribute_not_exists`), one
//! pending invitation per organization and email and "not already a member" (the `EMAIL#` slot),
//! an invitation answered once (`status = pending` on the invitation), the owner never removed
//! (`role <> owner` on the delete), and an inviter or remover who still holds their role (a
//! `ConditionCheck` on their membership). Reads before writes only choose the error message.
//!
//! Cost: every mutation is at most one read round trip and one write round trip; no Scan exists.

mod items;
mod keys;
pub mod schema;

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, KeysAndAttributes, Put, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};

use crate::domain::{
    Delivery, DomainError, Email, Invitation, InvitationId, InvitationStatus, Membership, OrgId, OrgMembers,
    Organization, Role, Timestamp, User, UserId,
};
use items::{
    EmailSlotItem, Entity, InvitationItem, Item, MemberItem, OrgItem, SlotState, UserItem, entity_of,
    from_item, to_item,
};

/// The table and the client that reaches it. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    client: Client,
    table: String,
}

/// What registering a user did.
#[derive(Debug, Clone, PartialEq)]
pub enum Registration {
    Created { user: User, organization: Organization },
    AlreadyRegistered,
}

/// Why a transaction was cancelled, one entry per action in the order they were given.
#[derive(Debug, Default)]
struct Cancelled(Vec<(Option<String>, Option<Item>)>);

impl Cancelled {
    fn failed(&self, index: usize) -> bool {
        matches!(self.0.get(index), Some((Some(code), _)) if code == "ConditionalCheckFailed")
    }

    /// The item as it was when the condition at `index` failed (ALL_OLD).
    fn old_item(&self, index: usize) -> Option<Item> {
        self.0.get(index).and_then(|(_, item)| item.clone())
    }

    /// A concurrent transaction touched the same items: the caller may retry.
    fn conflicted(&self) -> bool {
        self.0.iter().any(|(code, _)| code.as_deref() == Some("TransactionConflict"))
    }
}

enum TxError {
    Cancelled(Cancelled),
    Failed(DomainError),
}

impl From<DomainError> for TxError {
    fn from(e: DomainError) -> Self {
        Self::Failed(e)
    }
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn key(pk: String, sk: impl Into<String>) -> Item {
    HashMap::from([(schema::PK.to_owned(), s(pk)), (schema::SK.to_owned(), s(sk))])
}

fn built<T, E: std::error::Error + Send + Sync + 'static>(r: Result<T, E>) -> Result<T, DomainError> {
    r.map_err(|e| DomainError::unavailable("building a DynamoDB request", e))
}

fn contention() -> DomainError {
    DomainError::Conflict("another request changed this at the same moment; try again".into())
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    fn put(&self, item: Item, condition: &str) -> Result<Put, DomainError> {
        built(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression(condition)
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .build(),
        )
    }

    async fn transact(&self, actions: Vec<TransactWriteItem>) -> Result<(), TxError> {
        match self.client.transact_write_items().set_transact_items(Some(actions)).send().await {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) => match e.into_err() {
                TransactWriteItemsError::TransactionCanceledException(c) => {
                    Err(TxError::Cancelled(Cancelled(
                        c.cancellation_reasons
                            .unwrap_or_default()
                            .into_iter()
                            .map(|r| (r.code, r.item))
                            .collect(),
                    )))
                }
                other => Err(DomainError::unavailable("DynamoDB TransactWriteItems", other).into()),
            },
            Err(e) => Err(DomainError::unavailable("DynamoDB TransactWriteItems", e).into()),
        }
    }

    async fn get(&self, pk: String, sk: impl Into<String>) -> Result<Option<Item>, DomainError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| DomainError::unavailable("DynamoDB GetItem", e))?;
        Ok(out.item)
    }

    /// Strongly consistent reads of several items in one round trip (retrying unprocessed keys).
    async fn get_many(&self, keys: Vec<Item>) -> Result<Vec<Item>, DomainError> {
        let mut pending = keys;
        let mut found = Vec::new();
        for attempt in 0..5u32 {
            let request =
                built(KeysAndAttributes::builder().set_keys(Some(pending)).consistent_read(true).build())?;
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(|e| DomainError::unavailable("DynamoDB BatchGetItem", e))?;
            if let Some(mut responses) = out.responses {
                found.extend(responses.remove(&self.table).unwrap_or_default());
            }
            pending = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.table))
                .map(|k| k.keys)
                .unwrap_or_default();
            if pending.is_empty() {
                return Ok(found);
            }
            tokio::time::sleep(std::time::Duration::from_millis(25 << attempt)).await;
        }
        Err(DomainError::unavailable("DynamoDB BatchGetItem", "keys left unprocessed after retries"))
    }

    /// Every item of one partition (strongly consistent) or one GSI key (eventually consistent).
    async fn query(
        &self,
        index: Option<&str>,
        key_attr: &str,
        value: String,
    ) -> Result<Vec<Item>, DomainError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(index.map(str::to_owned))
                .key_condition_expression("#k = :v")
                .expression_attribute_names("#k", key_attr)
                .expression_attribute_values(":v", s(value.clone()))
                .set_consistent_read(index.is_none().then_some(true))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| DomainError::unavailable("DynamoDB Query", e))?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(items),
            }
        }
    }

    // ---- users -------------------------------------------------------------------------------

    /// Creates the user and their personal organization, owned by them, in one transaction.
    /// Idempotent: when the user exists already nothing is written.
    pub async fn register(
        &self,
        user_id: &UserId,
        email: &Email,
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
        };
        let new = "attribute_not_exists(pk)";
        let actions = vec![
            TransactWriteItem::builder().put(self.put(to_item(&UserItem::from(&user))?, new)?).build(),
            TransactWriteItem::builder().put(self.put(to_item(&OrgItem::from(&organization))?, new)?).build(),
            TransactWriteItem::builder()
                .put(self.put(to_item(&MemberItem::from(&membership))?, new)?)
                .build(),
            TransactWriteItem::builder()
                .put(self.put(to_item(&EmailSlotItem::member(&organization.org_id, user_id, email))?, new)?)
                .build(),
        ];
        match self.transact(actions).await {
            Ok(()) => Ok(Registration::Created { user, organization }),
            Err(TxError::Cancelled(c)) if c.failed(0) => Ok(Registration::AlreadyRegistered),
            Err(TxError::Cancelled(c)) if c.conflicted() => Err(contention()),
            Err(TxError::Cancelled(c)) => {
                Err(DomainError::Corrupt(format!("registration cancelled: {:?}", c.0)))
            }
            Err(TxError::Failed(e)) => Err(e),
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
            self.query(Some(schema::GSI1), schema::GSI1_PK, keys::member_gsi_pk(&user.user_id)),
            self.query(Some(schema::GSI1), schema::GSI1_PK, keys::invitation_gsi_pk(&user.email)),
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

    // ---- organizations -----------------------------------------------------------------------

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
        for item in self.query(None, schema::PK, keys::org_pk(org)).await? {
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

    /// Condition that `inviter` still holds a role that may manage members.
    fn still_manager(&self, member: &Membership) -> Result<ConditionCheck, DomainError> {
        built(
            ConditionCheck::builder()
                .table_name(&self.table)
                .set_key(Some(key(keys::org_pk(&member.org_id), keys::member_sk(&member.user_id))))
                .condition_expression("#role IN (:owner, :admin)")
                .expression_attribute_names("#role", "role")
                .expression_attribute_values(":owner", s(Role::Owner.as_str()))
                .expression_attribute_values(":admin", s(Role::Admin.as_str()))
                .build(),
        )
    }

    // ---- invitations -------------------------------------------------------------------------

    /// Writes a new pending invitation. Fails with `Conflict` when the email already belongs to a
    /// member or holds an open invitation, and with `NotFound` when the inviter lost their role
    /// meanwhile. The stream then carries it to the mailer.
    pub async fn create_invitation(
        &self,
        inviter: &Membership,
        invitation: &Invitation,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        let slot = built(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(to_item(&EmailSlotItem::invited(invitation))?))
                .condition_expression(
                    "attribute_not_exists(pk) OR (#state = :invited AND invitation.expires_at <= :now)",
                )
                .expression_attribute_names("#state", "state")
                .expression_attribute_values(":invited", s("invited"))
                .expression_attribute_values(":now", s(now.to_rfc3339()))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .build(),
        )?;
        let actions = vec![
            TransactWriteItem::builder()
                .put(self.put(to_item(&InvitationItem::from(invitation))?, "attribute_not_exists(pk)")?)
                .build(),
            TransactWriteItem::builder().put(slot).build(),
            TransactWriteItem::builder().condition_check(self.still_manager(inviter)?).build(),
        ];
        match self.transact(actions).await {
            Ok(()) => Ok(()),
            Err(TxError::Cancelled(c)) if c.failed(1) => {
                let state = c.old_item(1).and_then(|i| from_item::<EmailSlotItem>(i).ok()).map(|s| s.state);
                Err(DomainError::Conflict(match state {
                    Some(SlotState::Member) => {
                        format!("{} is already a member of this organization", invitation.email)
                    }
                    _ => {
                        format!("{} already has a pending invitation to this organization", invitation.email)
                    }
                }))
            }
            Err(TxError::Cancelled(c)) if c.failed(2) => Err(DomainError::NotFound("organization")),
            Err(TxError::Cancelled(c)) if c.conflicted() => Err(contention()),
            Err(TxError::Cancelled(c)) => {
                Err(DomainError::Corrupt(format!("invitation cancelled: {:?}", c.0)))
            }
            Err(TxError::Failed(e)) => Err(e),
        }
    }

    /// An invitation and the user answering it, in one round trip.
    pub async fn invitation_and_user(
        &self,
        id: &InvitationId,
        user: &UserId,
    ) -> Result<(Option<Invitation>, Option<User>), DomainError> {
        let items = self
            .get_many(vec![
                key(keys::invitation_pk(id), keys::INVITATION_SK),
                key(keys::user_pk(user), keys::USER_SK),
            ])
            .await?;
        let (mut invitation, mut found_user) = (None, None);
        for item in items {
            match entity_of(&item) {
                Some(Entity::Invitation) => {
                    invitation = Some(Invitation::from(from_item::<InvitationItem>(item)?))
                }
                Some(Entity::User) => found_user = Some(User::from(from_item::<UserItem>(item)?)),
                _ => {}
            }
        }
        Ok((invitation, found_user))
    }

    pub async fn invitation(&self, id: &InvitationId) -> Result<Option<Invitation>, DomainError> {
        self.get(keys::invitation_pk(id), keys::INVITATION_SK)
            .await?
            .map(|i| from_item::<InvitationItem>(i).map(Invitation::from))
            .transpose()
    }

    /// Marks the invitation answered, on condition that it is still pending and unexpired, and
    /// takes it off the dashboard index.
    fn answer(
        &self,
        invitation: &Invitation,
        status: InvitationStatus,
        now: Timestamp,
    ) -> Result<Update, DomainError> {
        built(
            Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(keys::invitation_pk(&invitation.invitation_id), keys::INVITATION_SK)))
                .update_expression("SET #status = :answer, responded_at = :now REMOVE gsi1pk, gsi1sk")
                .condition_expression("#status = :pending AND expires_at > :now")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":answer", s(status_str(status)))
                .expression_attribute_values(":pending", s(status_str(InvitationStatus::Pending)))
                .expression_attribute_values(":now", s(now.to_rfc3339()))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .build(),
        )
    }

    /// Explains a failed `answer` condition from the invitation as it was.
    fn answer_failed(c: &Cancelled, email: &Email, now: Timestamp) -> DomainError {
        let current = c.old_item(0).and_then(|i| from_item::<InvitationItem>(i).ok()).map(Invitation::from);
        match current {
            Some(inv) => inv.check_answerable_by(email, now).err().unwrap_or_else(contention),
            None => DomainError::NotFound("invitation"),
        }
    }

    /// Accepts: the invitation becomes accepted, the email's slot becomes a member's, and the
    /// membership is created, all or nothing. Two accepts of one invitation: exactly one wins.
    pub async fn accept_invitation(
        &self,
        invitation: &Invitation,
        user: &User,
        now: Timestamp,
    ) -> Result<Membership, DomainError> {
        let membership = Membership {
            org_id: invitation.org_id,
            org_name: invitation.org_name.clone(),
            user_id: user.user_id.clone(),
            email: user.email.clone(),
            role: invitation.role.into(),
            joined_at: now,
        };
        let slot = built(
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(to_item(&EmailSlotItem::member(
                    &invitation.org_id,
                    &user.user_id,
                    &user.email,
                ))?))
                .condition_expression("#state = :invited AND invitation.invitation_id = :id")
                .expression_attribute_names("#state", "state")
                .expression_attribute_values(":invited", s("invited"))
                .expression_attribute_values(":id", s(invitation.invitation_id.to_string()))
                .build(),
        )?;
        let actions = vec![
            TransactWriteItem::builder()
                .update(self.answer(invitation, InvitationStatus::Accepted, now)?)
                .build(),
            TransactWriteItem::builder().put(slot).build(),
            TransactWriteItem::builder()
                .put(self.put(to_item(&MemberItem::from(&membership))?, "attribute_not_exists(pk)")?)
                .build(),
        ];
        match self.transact(actions).await {
            Ok(()) => Ok(membership),
            Err(TxError::Cancelled(c)) if c.failed(0) => Err(Self::answer_failed(&c, &user.email, now)),
            Err(TxError::Cancelled(c)) if c.failed(2) => {
                Err(DomainError::Conflict("you are already a member of this organization".into()))
            }
            Err(TxError::Cancelled(c)) if c.failed(1) || c.conflicted() => Err(contention()),
            Err(TxError::Cancelled(c)) => Err(DomainError::Corrupt(format!("accept cancelled: {:?}", c.0))),
            Err(TxError::Failed(e)) => Err(e),
        }
    }

    /// Declines: the invitation becomes declined and the email's slot is freed for a new one.
    pub async fn decline_invitation(
        &self,
        invitation: &Invitation,
        user: &User,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        let free_slot = built(
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(keys::org_pk(&invitation.org_id), keys::email_slot_sk(&invitation.email))))
                .condition_expression("attribute_not_exists(pk) OR invitation.invitation_id = :id")
                .expression_attribute_values(":id", s(invitation.invitation_id.to_string()))
                .build(),
        )?;
        let actions = vec![
            TransactWriteItem::builder()
                .update(self.answer(invitation, InvitationStatus::Declined, now)?)
                .build(),
            TransactWriteItem::builder().delete(free_slot).build(),
        ];
        match self.transact(actions).await {
            Ok(()) => Ok(()),
            Err(TxError::Cancelled(c)) if c.failed(0) => Err(Self::answer_failed(&c, &user.email, now)),
            Err(TxError::Cancelled(c)) if c.failed(1) || c.conflicted() => Err(contention()),
            Err(TxError::Cancelled(c)) => Err(DomainError::Corrupt(format!("decline cancelled: {:?}", c.0))),
            Err(TxError::Failed(e)) => Err(e),
        }
    }

    /// Records that the invitation email went out, once: a redelivered stream record finds the
    /// delivery already there and changes nothing. Returns whether this call recorded it.
    pub async fn record_delivery(&self, id: &InvitationId, delivery: &Delivery) -> Result<bool, DomainError> {
        let value = serde_dynamo::to_attribute_value(delivery)
            .map_err(|e| DomainError::Corrupt(format!("cannot encode delivery: {e}")))?;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::invitation_pk(id), keys::INVITATION_SK)))
            .update_expression("SET delivery = :d")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(delivery)")
            .expression_attribute_values(":d", value)
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), UpdateItemError::ConditionalCheckFailedException(_)) =>
            {
                Ok(false)
            }
            Err(e) => Err(DomainError::unavailable("DynamoDB UpdateItem", e)),
        }
    }

    // ---- members -----------------------------------------------------------------------------

    /// The memberships of the remover and the removed, in one round trip.
    pub async fn memberships(
        &self,
        org: &OrgId,
        users: [&UserId; 2],
    ) -> Result<[Option<Membership>; 2], DomainError> {
        // BatchGetItem refuses a key named twice (someone removing themselves).
        let mut keys: Vec<Item> = users.iter().map(|u| key(keys::org_pk(org), keys::member_sk(u))).collect();
        keys.dedup();
        let mut found = [None, None];
        for item in self.get_many(keys).await? {
            let m = Membership::from(from_item::<MemberItem>(item)?);
            for (slot, user) in found.iter_mut().zip(users) {
                if &m.user_id == user {
                    *slot = Some(m.clone());
                }
            }
        }
        Ok(found)
    }

    /// Removes `target` from the organization: the membership and the email's slot go together.
    /// Refused when the target is the owner, or (unless removing themselves) when `remover` no
    /// longer manages members at the moment of the write.
    pub async fn remove_member(&self, remover: &Membership, target: &Membership) -> Result<(), DomainError> {
        let org_pk = keys::org_pk(&target.org_id);
        let delete_member = built(
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(org_pk.clone(), keys::member_sk(&target.user_id))))
                .condition_expression("attribute_exists(pk) AND #role <> :owner")
                .expression_attribute_names("#role", "role")
                .expression_attribute_values(":owner", s(Role::Owner.as_str()))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .build(),
        )?;
        let delete_slot = built(
            Delete::builder()
                .table_name(&self.table)
                .set_key(Some(key(org_pk, keys::email_slot_sk(&target.email))))
                .condition_expression("attribute_not_exists(pk) OR user_id = :uid")
                .expression_attribute_values(":uid", s(target.user_id.as_str()))
                .build(),
        )?;
        let mut actions = vec![
            TransactWriteItem::builder().delete(delete_member).build(),
            TransactWriteItem::builder().delete(delete_slot).build(),
        ];
        if remover.user_id != target.user_id {
            actions.push(TransactWriteItem::builder().condition_check(self.still_manager(remover)?).build());
        }
        match self.transact(actions).await {
            Ok(()) => Ok(()),
            Err(TxError::Cancelled(c)) if c.failed(0) => match c.old_item(0) {
                Some(_) => {
                    Err(DomainError::Conflict("the owner cannot be removed from their organization".into()))
                }
                None => Err(DomainError::NotFound("member")),
            },
            Err(TxError::Cancelled(c)) if c.failed(2) => Err(DomainError::NotFound("organization")),
            Err(TxError::Cancelled(c)) if c.failed(1) || c.conflicted() => Err(contention()),
            Err(TxError::Cancelled(c)) => Err(DomainError::Corrupt(format!("removal cancelled: {:?}", c.0))),
            Err(TxError::Failed(e)) => Err(e),
        }
    }
}

fn status_str(status: InvitationStatus) -> &'static str {
    match status {
        InvitationStatus::Pending => "pending",
        InvitationStatus::Accepted => "accepted",
        InvitationStatus::Declined => "declined",
    }
}

/// Whether a stream record's new image is an invitation, decided from one attribute before any
/// deserialization: the mailer ignores everything else cheaply.
pub fn is_invitation_image(entity: Option<&str>) -> bool {
    entity == Some(schema::ENTITY_INVITATION)
}
