//! Rolling-window rate limits as conditions.
//!
//! A limit of N per 24 hours is N slot items; a send takes one slot whose last use is older than
//! the window, with that as the put's condition. Whatever the interleaving, no slot is used twice
//! in a window, so no window holds more than N sends: the limit holds under parallel requests
//! without a counter everyone contends on. The slot is taken in the transaction of the send
//! itself: a send refused for another reason takes no slot.
//!
//! Each request reads the slots (one strongly consistent query per limit) and picks a free one at
//! random, so parallel requests mostly pick different slots; the few that collide read again.

use aws_sdk_dynamodb::types::Put;
use time::Duration;

use super::Store;
use super::expr::{absent, attr};
use super::items::{Entity, RateSlotItem, from_item, to_item};
use super::keys;
use super::plumbing::{Query, Tx, built, stored};
use crate::domain::{DomainError, Email, OrgId, Timestamp, UserId};

/// The window every limit counts over.
pub const WINDOW: Duration = Duration::hours(24);

/// Transaction action names of the two slots.
pub(super) const ORG_SLOT: &str = "organization's rate slot";
pub(super) const INVITER_SLOT: &str = "inviter's rate slot";
pub(super) const RECIPIENT_SLOT: &str = "recipient's rate slot";

/// One limit: whose sends it counts and how many a window holds.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    Org(&'a OrgId),
    Inviter(&'a UserId),
    /// One address, whoever invites it: free sign-ups cannot turn invitations into spam.
    Recipient(&'a Email),
}

impl Scope<'_> {
    fn partition(&self) -> String {
        match self {
            Scope::Org(org) => keys::org_rate_pk(org),
            Scope::Inviter(user) => keys::inviter_rate_pk(user),
            Scope::Recipient(email) => keys::recipient_rate_pk(email),
        }
    }

    fn refusal(&self, limit: usize, retry_after: Duration) -> DomainError {
        let minutes = (retry_after.whole_seconds() + 59) / 60;
        let detail = match self {
            Scope::Org(_) => format!(
                "this organization has sent {limit} invitations (new or resent) in the last 24 hours, its limit; the next can go out in {minutes} minutes"
            ),
            Scope::Inviter(_) => format!(
                "you have sent {limit} invitations (new or resent) in the last 24 hours across your organizations, your limit; the next can go out in {minutes} minutes"
            ),
            // Says nothing of who else invited the address.
            Scope::Recipient(email) => format!(
                "{email} cannot receive more invitations for now (at most {limit} in 24 hours, from all organizations); the next can go out in {minutes} minutes"
            ),
        };
        DomainError::TooMany {
            detail,
            retry_after_seconds: u64::try_from(retry_after.whole_seconds()).unwrap_or(1),
        }
    }
}

impl Store {
    /// Chooses a free slot of `scope`'s limit and returns the put that takes it, or the refusal
    /// naming the limit and when a slot frees up.
    pub(super) async fn take_slot(
        &self,
        scope: Scope<'_>,
        limit: usize,
        now: Timestamp,
    ) -> Result<Put, DomainError> {
        let partition = scope.partition();
        let cutoff = now.plus(-WINDOW);
        let mut busy = vec![None; limit];
        for item in self.query(Query::partition(partition.clone()).prefix(keys::SLOT_PREFIX)).await? {
            let slot = from_item::<RateSlotItem>(item)?;
            let index = keys::rate_slot_index(&slot.sk);
            if let Some(entry) = index.and_then(|i| busy.get_mut(i)) {
                *entry = Some(slot.used_at).filter(|t| *t > cutoff);
            }
        }
        let free: Vec<usize> = (0..limit).filter(|i| busy[*i].is_none()).collect();
        if free.is_empty() {
            let oldest = busy.iter().flatten().min().copied().unwrap_or(now);
            let retry_after = oldest.plus(WINDOW).datetime() - now.datetime();
            return Err(scope.refusal(limit, retry_after));
        }
        let pick = free[(uuid::Uuid::new_v4().as_u128() % free.len() as u128) as usize];
        let item = RateSlotItem {
            pk: partition,
            sk: keys::rate_slot_sk(pick),
            entity: Entity::RateSlot,
            used_at: now,
            ttl: now.plus(WINDOW).plus(Duration::hours(1)).unix(),
        };
        built(self.put_if(to_item(&item)?, absent().or(attr("used_at").le(stored(&cutoff)?))).build())
    }

    /// Adds the three limits' slots to `tx`: the organization's, the inviter's and the
    /// recipient's.
    pub(super) async fn take_slots(
        &self,
        tx: Tx,
        org: &OrgId,
        inviter: &UserId,
        recipient: &Email,
        limits: &crate::config::Limits,
        now: Timestamp,
    ) -> Result<Tx, DomainError> {
        let (org_slot, inviter_slot, recipient_slot) = tokio::try_join!(
            self.take_slot(Scope::Org(org), limits.invitations_per_org, now),
            self.take_slot(Scope::Inviter(inviter), limits.invitations_per_inviter, now),
            self.take_slot(Scope::Recipient(recipient), limits.invitations_per_recipient, now),
        )?;
        Ok(tx.put(ORG_SLOT, org_slot).put(INVITER_SLOT, inviter_slot).put(RECIPIENT_SLOT, recipient_slot))
    }
}

/// How many times a send whose slot was taken by a parallel one picks again before giving up.
pub(super) const SLOT_ATTEMPTS: usize = 8;
