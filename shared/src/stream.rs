//! What the table's stream consumers share: handling a batch in order with Lambda's
//! partial-failure answer. What a record says is decoded by the store ([`crate::store::stream`]).

use std::fmt::Debug;
use std::future::Future;

use aws_lambda_events::dynamodb::EventRecord;
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};

use crate::domain::DomainError;

/// Handles `records` one after the other. The first failure is logged (naming `what` failed),
/// reported in `batchItemFailures`, and stops the batch: Lambda resumes from the lowest failure,
/// so the records after it come again, in order.
pub async fn in_order<'r, T, F, Fut>(
    records: &'r [EventRecord],
    what: &str,
    mut handle: F,
) -> DynamoDbEventResponse
where
    F: FnMut(&'r EventRecord) -> Fut,
    Fut: Future<Output = Result<T, DomainError>>,
    T: Debug,
{
    let mut response = DynamoDbEventResponse::default();
    for record in records {
        match handle(record).await {
            Ok(outcome) => tracing::debug!(event_id = %record.event_id, ?outcome, "record handled"),
            Err(e) => {
                tracing::error!(event_id = %record.event_id, error = %crate::telemetry::chain(&e), "{what} failed; the batch is retried from this record");
                let mut failure = DynamoDbBatchItemFailure::default();
                failure.item_identifier = record.change.sequence_number.clone();
                response.batch_item_failures.push(failure);
                break;
            }
        }
    }
    response
}
