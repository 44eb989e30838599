//! DynamoDB Streams handler: keeps the accounts on managed clusters in line with the
//! organization's members. A member joining, leaving or being removed, a role change (ownership
//! transfer is two) brings that user's record on every managed cluster of the organization up to
//! date; a new managed cluster gets a record for every member. Clusters with user management
//! `disabled` are never touched, and terminated ones no longer change.
//!
//! - What to write is computed from the table as it is now, never from the record's image: a
//!   redelivered, duplicated or no-op record (the emulator streams no-op updates) writes nothing.
//! - Records that are not about memberships or new managed clusters are skipped from their images,
//!   without a read (and the event source mapping filters most of them out).
//! - A failure stops the batch at that record and reports exactly it in `batchItemFailures`:
//!   Lambda retries from there, in order.
//! - A member on N clusters costs one GetItem, one Query, and per 50 clusters one BatchGetItem
//!   and one TransactWriteItems. A batch cut short by the timeout is retried whole; what was
//!   already written is found equal and skipped.

use std::sync::Arc;

use aws_lambda_events::dynamodb::EventRecord;
use orgs::Clock;
use orgs::domain::{DomainError, OrgId, Timestamp, UserId};
use orgs::store::Store;
use orgs::stream::text;

pub struct UserSync {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
}

/// What a stream record is about, for this function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A membership appeared, went, or changed role.
    Member { org: String, user: String },
    /// A cluster with managed users was created.
    Cluster { org: String, cluster: String },
}

/// What became of one record.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Ignored,
    /// How many records changed.
    Synced(usize),
}

/// What `record` is about, from its images alone; `None` for everything this function ignores.
pub fn target(record: &EventRecord) -> Option<Target> {
    let (new, old) = (&record.change.new_image, &record.change.old_image);
    let image = if new.is_empty() { old } else { new };
    match text(image, "entity")? {
        "member" => {
            let changed = match record.event_name.as_str() {
                "INSERT" | "REMOVE" => true,
                _ => text(new, "role") != text(old, "role"),
            };
            changed.then(|| Target::Member {
                org: text(image, "org_id").unwrap_or_default().to_owned(),
                user: text(image, "user_id").unwrap_or_default().to_owned(),
            })
        }
        "cluster" if record.event_name == "INSERT" && text(image, "user_management") == Some("managed") => {
            Some(Target::Cluster {
                org: text(image, "org_id").unwrap_or_default().to_owned(),
                cluster: text(image, "cluster_id").unwrap_or_default().to_owned(),
            })
        }
        _ => None,
    }
}

/// Handles one stream record (see the module's notes).
pub async fn handle_record(sync: &UserSync, record: &EventRecord) -> Result<Outcome, DomainError> {
    let Some(target) = target(record) else { return Ok(Outcome::Ignored) };
    let now = Timestamp::from_datetime(sync.clock.now());
    let corrupt = |what: &str| DomainError::Corrupt(format!("a stream record with a bad {what}: {target:?}"));
    let written = match &target {
        Target::Member { org, user } => {
            let org = OrgId::parse(org).map_err(|_| corrupt("org_id"))?;
            let user = UserId::parse(user).map_err(|_| corrupt("user_id"))?;
            sync.store.sync_member(&org, &user, now).await?
        }
        Target::Cluster { org, cluster } => {
            let org = OrgId::parse(org).map_err(|_| corrupt("org_id"))?;
            let cluster = uuid::Uuid::parse_str(cluster).map_err(|_| corrupt("cluster_id"))?;
            sync.store.sync_cluster(&org, &cluster, now).await?
        }
    };
    if written > 0 {
        tracing::info!(?target, written, "cluster users synced");
    }
    Ok(Outcome::Synced(written))
}
