//! DynamoDB Streams handler: when an organization is renamed, the copies of its name on every
//! membership (what each member's dashboard lists) and on its pending invitations (what invitees
//! see) follow.
//!
//! - Only organization records whose name changed are handled; everything else (and the no-op
//!   updates the emulator still streams) is skipped from the images, without a read.
//! - The name written is the organization's name read fresh, not the record's: a replayed or
//!   late record never brings an old name back.
//! - Each copy is written only where it differs (a conditional update), so a batch handled twice
//!   writes nothing the second time.
//! - A failure stops the batch at that record and reports it in `batchItemFailures`: Lambda
//!   retries from there, in order.

use aws_lambda_events::dynamodb::EventRecord;
use orgs::domain::{DomainError, OrgId};
use orgs::store::Store;
use orgs::store::stream::{Change, decode};

/// What the function holds for its lifetime.
pub struct NameSync {
    pub store: Store,
}

/// What became of one record.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Not a rename.
    Ignored,
    /// How many copies changed.
    Copied(usize),
}

/// The organization renamed, if the change is a rename.
pub fn renamed(change: &Change) -> Option<OrgId> {
    match change {
        Change::Org { org, renamed: true } => Some(*org),
        _ => None,
    }
}

/// Handles one stream record (see the module's notes).
pub async fn handle_record(sync: &NameSync, record: &EventRecord) -> Result<Outcome, DomainError> {
    handle(sync, &decode(record)?).await
}

/// Handles one decoded change.
pub async fn handle(sync: &NameSync, change: &Change) -> Result<Outcome, DomainError> {
    let Some(org) = renamed(change) else {
        return Ok(Outcome::Ignored);
    };
    let copied = sync.store.copy_org_name(&org).await?;
    tracing::info!(org_id = %org, copied, "organization name copied");
    Ok(Outcome::Copied(copied))
}
