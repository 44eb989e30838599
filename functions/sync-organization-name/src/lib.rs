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
use orgs::store::{Store, schema};
use orgs::stream::text;

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

/// Whether a record is an organization whose name changed.
pub fn is_rename(record: &EventRecord) -> bool {
    let (new, old) = (&record.change.new_image, &record.change.old_image);
    record.event_name == "MODIFY"
        && text(new, schema::ENTITY) == Some(schema::ENTITY_ORG)
        && text(new, "name") != text(old, "name")
}

/// Handles one stream record (see the module's notes).
pub async fn handle_record(sync: &NameSync, record: &EventRecord) -> Result<Outcome, DomainError> {
    if !is_rename(record) {
        return Ok(Outcome::Ignored);
    }
    let org = text(&record.change.new_image, "org_id")
        .ok_or_else(|| DomainError::Corrupt("organization record without org_id".into()))
        .and_then(OrgId::parse)?;
    let copied = sync.store.copy_org_name(&org).await?;
    tracing::info!(org_id = %org, copied, "organization name copied");
    Ok(Outcome::Copied(copied))
}
