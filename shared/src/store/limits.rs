//! Rolling-window rate limits as conditions.
//!
//! A limit of N per 24 hours is one log item per scope: the times of its sends in the last 24
//! hours (at most N) and a version. A send is refused while the log holds N sends younger than
//! the window; otherwise its transaction writes the log with its own time added (older ones
//! dropped) and the version moved on, on condition that the version is still the one read. So no
//! window ever holds more than N sends, whatever the interleaving, and a send refused for another
//! reason writes nothing.
//!
//! The logs are read with the organization and the membership, in the one BatchGetItem the
//! operation makes anyway. A send whose log moved meanwhile gets the log as it is now from the
//! cancellation (ALL_OLD) and decides again, without another read: each such loss is another
//! send that got in, so a send decides at most N + 1 times per limit before it goes through or is
//! refused.

use aws_sdk_dynamodb::types::{Put, ReturnValuesOnConditionCheckFailure};
use serde::{Deserialize, Serialize};
use time::Duration;

use super::Store;
use super::expr::{absent, attr};
use super::items::{Entity, Item, from_item, to_item};
use super::keys;
use super::plumbing::{Cancelled, Tx, built, key, number};
use crate::config::Limits;
use crate::domain::{DomainError, Email, OrgId, Timestamp, UserId};

/// The window every limit counts over.
pub const WINDOW: Duration = Duration::hours(24);

/// Transaction action names of the three logs.
const ORG_LOG: &str = "organization's rate log";
const INVITER_LOG: &str = "inviter's rate log";
const RECIPIENT_LOG: &str = "recipient's rate log";
/// The names of the logs' actions, for telling a lost log from another failure.
pub(super) const LOG_ACTIONS: [&str; 3] = [ORG_LOG, INVITER_LOG, RECIPIENT_LOG];

/// How many times a send whose log changed without telling how (a conflicting transaction)
/// reads the logs again before giving up.
pub(super) const REREADS: usize = 8;

/// One limit: whose sends it counts and how many a window holds.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    Org(&'a OrgId),
    Inviter(&'a UserId),
    /// One address, whoever invites it: free sign-ups cannot turn invitations into spam.
    Recipient(&'a Email),
}

/// A limit's log as stored.
#[derive(Debug, Serialize, Deserialize)]
struct RateLogItem {
    pk: String,
    sk: String,
    entity: Entity,
    /// The sends younger than the window when it was written, oldest first: at most the limit
    /// (1,000 at most, about 30 kB of the item's 400).
    sent: Vec<Timestamp>,
    version: u64,
    ttl: i64,
}

/// A limit's log as a send read it: its sends and version (`None`: no log yet).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RateLog {
    read: Option<(Vec<Timestamp>, u64)>,
}

impl RateLog {
    fn of(item: Option<Item>) -> Result<RateLog, DomainError> {
        Ok(RateLog { read: item.map(from_item::<RateLogItem>).transpose()?.map(|l| (l.sent, l.version)) })
    }
}

/// The three logs a send counts against, as read.
#[derive(Debug, Clone, Default)]
pub struct RateLogs {
    org: RateLog,
    inviter: RateLog,
    recipient: RateLog,
}

/// The keys of the three logs a send from `inviter` in `org` to `recipient` counts against.
pub(super) fn log_keys(org: &OrgId, inviter: &UserId, recipient: &Email) -> [Item; 3] {
    [Scope::Org(org), Scope::Inviter(inviter), Scope::Recipient(recipient)].map(|s| s.key())
}

impl RateLogs {
    /// The logs among `items` (what a batch read returned), by their keys.
    pub(super) fn among(items: &mut Vec<Item>, keys: &[Item; 3]) -> Result<RateLogs, DomainError> {
        let mut take = |wanted: &Item| -> Result<RateLog, DomainError> {
            let found = items.iter().position(|item| {
                [super::schema::PK, super::schema::SK].iter().all(|k| item.get(*k) == wanted.get(*k))
            });
            RateLog::of(found.map(|i| items.swap_remove(i)))
        };
        Ok(RateLogs { org: take(&keys[0])?, inviter: take(&keys[1])?, recipient: take(&keys[2])? })
    }

    /// These logs, with those whose condition failed in `c` as they were then. `None` when one
    /// failed without telling how it was (a conflicting transaction): read them again.
    pub(super) fn after(&self, c: &Cancelled) -> Result<Option<RateLogs>, DomainError> {
        let mut next = self.clone();
        for (name, log) in LOG_ACTIONS.iter().zip([&mut next.org, &mut next.inviter, &mut next.recipient]) {
            if c.failed(name) {
                match c.old_item(name) {
                    Some(item) => *log = RateLog::of(Some(item))?,
                    None => return Ok(None),
                }
            }
        }
        Ok(Some(next))
    }
}

impl Scope<'_> {
    fn partition(&self) -> String {
        match self {
            Scope::Org(org) => keys::org_rate_pk(org),
            Scope::Inviter(user) => keys::inviter_rate_pk(user),
            Scope::Recipient(email) => keys::recipient_rate_pk(email),
        }
    }

    fn key(&self) -> Item {
        key(self.partition(), keys::RATE_LOG_SK)
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
    /// The put that records a send at `now` in `scope`'s log as `read`, or the refusal naming the
    /// limit and when the next send may go out.
    fn record_send(
        &self,
        scope: Scope<'_>,
        limit: usize,
        read: &RateLog,
        now: Timestamp,
    ) -> Result<Put, DomainError> {
        let cutoff = now.plus(-WINDOW);
        let (mut sent, version) = match &read.read {
            Some((sent, version)) => {
                (sent.iter().copied().filter(|t| *t > cutoff).collect::<Vec<_>>(), *version)
            }
            None => (Vec::new(), 0),
        };
        sent.sort_unstable();
        if sent.len() >= limit {
            // The send `limit` places back frees a place when it leaves the window (a limit of
            // nought: a window from now).
            let frees = sent.get(sent.len() - limit).copied().unwrap_or(now);
            return Err(scope.refusal(limit, frees.plus(WINDOW).datetime() - now.datetime()));
        }
        sent.push(now);
        let item = RateLogItem {
            pk: scope.partition(),
            sk: keys::RATE_LOG_SK.to_owned(),
            entity: Entity::RateLog,
            sent,
            version: version + 1,
            ttl: now.plus(WINDOW).plus(Duration::hours(1)).unix(),
        };
        let unchanged = match read.read {
            Some(_) => attr("version").eq(number(version)),
            None => absent(),
        };
        built(
            self.put_if(to_item(&item)?, unchanged)
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .build(),
        )
    }

    /// The three logs a send counts against, read in one round trip (for a send whose other
    /// reads do not carry them).
    pub async fn rate_logs(
        &self,
        org: &OrgId,
        inviter: &UserId,
        recipient: &Email,
    ) -> Result<RateLogs, DomainError> {
        let keys = log_keys(org, inviter, recipient);
        let mut items = self.get_many(keys.to_vec()).await?;
        RateLogs::among(&mut items, &keys)
    }

    /// Adds to `tx` the send's record in the three logs as `read`: the organization's, the
    /// inviter's and the recipient's.
    pub(super) fn record_sends(
        &self,
        tx: Tx,
        sender: &crate::domain::Membership,
        recipient: &Email,
        read: &RateLogs,
        limits: &Limits,
        now: Timestamp,
    ) -> Result<Tx, DomainError> {
        let (org, inviter) = (&sender.org_id, &sender.user_id);
        Ok(tx
            .put(ORG_LOG, self.record_send(Scope::Org(org), limits.invitations_per_org, &read.org, now)?)
            .put(
                INVITER_LOG,
                self.record_send(
                    Scope::Inviter(inviter),
                    limits.invitations_per_inviter,
                    &read.inviter,
                    now,
                )?,
            )
            .put(
                RECIPIENT_LOG,
                self.record_send(
                    Scope::Recipient(recipient),
                    limits.invitations_per_recipient,
                    &read.recipient,
                    now,
                )?,
            ))
    }
}

/// The most times a send decides: once per send of another that can get in first under each
/// limit, and once more.
pub(super) fn decisions(limits: &Limits) -> usize {
    limits.invitations_per_org + limits.invitations_per_inviter + limits.invitations_per_recipient + 1
}
