//! DynamoDB Streams handler: keeps the accounts on managed clusters in line with the
//! organization's members. A member joining, leaving or being removed, a role change (ownership
//! transfer is two) brings that user's record on every managed cluster of the organization up to
//! date; a new managed cluster gets a record for every member. Clusters with user management
//! `disabled` are never touched, and terminated ones no longer change.
//!
//! - What to write is computed from the table as it is now, never from the record's image: a
//!   redelivered, duplicated or no-op record (the emulator streams no-op updates) writes nothing.
//! - A person's SSH keys changing brings their records in every organization they belong to up to
//!   date (the keys are read fresh, like the membership).
//! - Records that are not about memberships, new managed clusters or keys are skipped from their images,
//!   without a read (and the event source mapping filters most of them out).
//! - A failure stops the batch at that record and reports exactly it in `batchItemFailures`:
//!   Lambda retries from there, in order.
//! - A member on N clusters costs one GetItem, one Query, and per 50 clusters one BatchGetItem
//!   and one TransactWriteItems. A batch cut short by the timeout is retried whole; what was
//!   already written is found equal and skipped.

use std::sync::Arc;

use aws_lambda_events::dynamodb::EventRecord;
use orgs::Clock;
use orgs::domain::{ClusterId, DomainError, OrgId, Timestamp, UserId};
use orgs::store::Store;
use orgs::store::stream::{Change, Kind, decode};

pub struct UserSync {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
}

/// What a stream record is about, for this function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A membership appeared, went, or changed role.
    Member { org: OrgId, user: UserId },
    /// A cluster with managed users was created.
    Cluster { org: OrgId, cluster: ClusterId },
    /// A person's SSH keys changed: their records in every organization they belong to.
    Keys { user: UserId },
}

/// What became of one record.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Ignored,
    /// How many records changed.
    Synced(usize),
}

/// What a change is about, for this function; `None` for everything it ignores.
pub fn target(change: &Change) -> Option<Target> {
    match change {
        Change::Member { kind, org, user, role_changed } => {
            (*kind != Kind::Modify || *role_changed).then(|| Target::Member { org: *org, user: user.clone() })
        }
        Change::Cluster { kind: Kind::Insert, org, cluster, managed_users: true, .. } => {
            Some(Target::Cluster { org: *org, cluster: *cluster })
        }
        Change::SshKeys { user } => Some(Target::Keys { user: user.clone() }),
        _ => None,
    }
}

/// Handles one stream record (see the module's notes).
pub async fn handle_record(sync: &UserSync, record: &EventRecord) -> Result<Outcome, DomainError> {
    handle(sync, &decode(record)?).await
}

/// Handles one decoded change.
pub async fn handle(sync: &UserSync, change: &Change) -> Result<Outcome, DomainError> {
    let Some(target) = target(change) else { return Ok(Outcome::Ignored) };
    let now = Timestamp::from_datetime(sync.clock.now());
    let written = match &target {
        Target::Member { org, user } => sync.store.sync_member(org, user, now).await?,
        Target::Cluster { org, cluster } => sync.store.sync_cluster(org, cluster, now).await?,
        Target::Keys { user } => {
            let mut written = 0;
            for membership in sync.store.memberships_of(user).await? {
                written += sync.store.sync_member(&membership.org_id, user, now).await?;
            }
            written
        }
    };
    if written > 0 {
        tracing::info!(?target, written, "cluster users synced");
    }
    Ok(Outcome::Synced(written))
}
