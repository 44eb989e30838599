//! The local event source mapping: reads the table's stream and invokes the mailer with Lambda's
//! semantics. Batches of up to `batch_size` records; `batchItemFailures` restart the shard at the
//! lowest failed sequence number; a batch that keeps failing is retried `max_retries` times with
//! backoff and then dropped to the log (production: the on-failure destination). A function error
//! retries the whole batch.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use aws_lambda_events::streams::DynamoDbEventResponse;
use aws_sdk_dynamodbstreams::Client;
use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType};
use lambda_runtime::LambdaEvent;
use send_invitation_email::InvitationMailer;
use serde_json::{Value, json};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What the pump has done, for tests that wait on it.
#[derive(Debug, Default)]
pub struct PumpStats {
    pub invocations: std::sync::atomic::AtomicU64,
    pub failed_records: std::sync::atomic::AtomicU64,
    /// Times the pump found its stream replaced or rewritten and started over.
    pub stream_changes: std::sync::atomic::AtomicU64,
}

#[derive(Debug, Clone)]
pub struct PumpOptions {
    pub batch_size: i32,
    pub max_retries: u32,
    /// The wait between polls while records come.
    pub poll_interval: Duration,
    /// The longest wait between polls: each poll that finds nothing doubles the wait up to this,
    /// and a delivery brings it back to `poll_interval`. Equal to it, the pump never slows down.
    pub idle_interval: Duration,
}

impl Default for PumpOptions {
    fn default() -> Self {
        let poll = Duration::from_millis(100);
        Self { batch_size: 10, max_retries: 3, poll_interval: poll, idle_interval: poll }
    }
}

/// The Lambda event a batch of stream records becomes.
/// What the store decodes a stream record to, as the stream's consumers see it.
pub fn change_of(record: &Record, stream_arn: &str) -> Result<orgs::store::stream::Change, BoxError> {
    let event = lambda_event(std::slice::from_ref(record), stream_arn)?;
    Ok(orgs::store::stream::decode(&event.records[0])?)
}

pub fn lambda_event(
    records: &[Record],
    stream_arn: &str,
) -> Result<aws_lambda_events::dynamodb::Event, BoxError> {
    let records: Vec<Value> = records.iter().map(|r| record_json(r, stream_arn)).collect::<Result<_, _>>()?;
    Ok(serde_json::from_value(json!({ "Records": records }))?)
}

fn record_json(record: &Record, stream_arn: &str) -> Result<Value, BoxError> {
    let change = record.dynamodb.as_ref().ok_or("stream record without a change")?;
    let image = |img: Option<&HashMap<String, aws_sdk_dynamodbstreams::types::AttributeValue>>| -> Result<Value, BoxError> {
        match img {
            Some(map) => Ok(serde_json::to_value(serde_dynamo::Item::from(map.clone()))?),
            None => Ok(Value::Null),
        }
    };
    let mut dynamodb = json!({
        "ApproximateCreationDateTime": change.approximate_creation_date_time.map(|t| t.as_secs_f64()).unwrap_or_default(),
        "Keys": image(change.keys.as_ref())?,
        "SequenceNumber": change.sequence_number,
        "SizeBytes": change.size_bytes.unwrap_or_default(),
        "StreamViewType": change.stream_view_type.as_ref().map(|v| v.as_str()),
    });
    if change.new_image.is_some() {
        dynamodb["NewImage"] = image(change.new_image.as_ref())?;
    }
    if change.old_image.is_some() {
        dynamodb["OldImage"] = image(change.old_image.as_ref())?;
    }
    Ok(json!({
        "eventID": record.event_id,
        "eventName": record.event_name.as_ref().map(|n| n.as_str()),
        "eventVersion": record.event_version,
        "eventSource": record.event_source,
        "awsRegion": record.aws_region,
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }))
}

/// Reads every record of the stream from the start of each shard, up to now, in batches.
pub async fn read_batch(client: &Client, stream_arn: &str, limit: i32) -> Result<Vec<Record>, BoxError> {
    let mut records = Vec::new();
    for shard in shards(client, stream_arn).await? {
        let mut iterator =
            Some(iterator(client, stream_arn, &shard, ShardIteratorType::TrimHorizon, None).await?);
        while let Some(it) = iterator {
            let out = client.get_records().shard_iterator(it).limit(limit).send().await?;
            let got = out.records.unwrap_or_default();
            if got.is_empty() {
                break;
            }
            records.extend(got);
            iterator = out.next_shard_iterator;
        }
    }
    Ok(records)
}

async fn shards(client: &Client, stream_arn: &str) -> Result<Vec<String>, BoxError> {
    let out = client.describe_stream().stream_arn(stream_arn).send().await?;
    Ok(out
        .stream_description
        .and_then(|d| d.shards)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|s| s.shard_id)
        .collect())
}

async fn iterator(
    client: &Client,
    stream_arn: &str,
    shard: &str,
    kind: ShardIteratorType,
    sequence: Option<&str>,
) -> Result<String, BoxError> {
    let out = client
        .get_shard_iterator()
        .stream_arn(stream_arn)
        .shard_id(shard)
        .shard_iterator_type(kind)
        .set_sequence_number(sequence.map(str::to_owned))
        .send()
        .await?;
    out.shard_iterator.ok_or_else(|| "no shard iterator".into())
}

/// A stream consumer as Lambda sees it: one batch event in, partial failures out.
pub type Handler = Arc<
    dyn Fn(
            aws_lambda_events::dynamodb::Event,
        )
            -> futures::future::BoxFuture<'static, Result<DynamoDbEventResponse, lambda_runtime::Error>>
        + Send
        + Sync,
>;

/// The mailer as a stream consumer.
pub fn mailer_handler(mailer: Arc<InvitationMailer>) -> Handler {
    Arc::new(move |event| {
        let mailer = mailer.clone();
        Box::pin(async move {
            crate::identity::as_function(
                "send-invitation-email",
                send_invitation_email::handle(&mailer, LambdaEvent::new(event, Default::default())),
            )
            .await
        })
    })
}

/// The table's ordered reader, `dispatch-table-stream` (name copy, cluster users, provisioning).
pub fn followers_handler(followers: Arc<dispatch_table_stream::Followers>) -> Handler {
    Arc::new(move |event| {
        let followers = followers.clone();
        Box::pin(async move {
            crate::identity::as_function(
                "dispatch-table-stream",
                dispatch_table_stream::handle(&followers, LambdaEvent::new(event, Default::default())),
            )
            .await
        })
    })
}

/// The last record a consumer has handled in one shard: its sequence number, and its event id
/// so that a stream rewritten under the pump (same sequence number, other record) is noticed.
#[derive(Debug, Clone)]
struct Position {
    sequence: String,
    event_id: Option<String>,
}

/// Runs until the task is aborted. Each poll starts from the last sequence number handled, never
/// from a held iterator, so the pump follows the table's stream wherever the emulator keeps it;
/// when the table names a new stream, or the stream no longer holds the record the pump stopped
/// at, it says so in the log and starts over from the stream's first record (the consumers are
/// idempotent, so that redelivers and loses nothing).
pub async fn run(
    dynamodb: aws_sdk_dynamodb::Client,
    streams: Client,
    table: String,
    handler: Handler,
    options: PumpOptions,
    stats: Arc<PumpStats>,
) {
    let mut stream_arn: Option<String> = None;
    let mut positions: HashMap<String, Position> = HashMap::new();
    let mut wait = options.poll_interval;
    loop {
        match latest_stream(&dynamodb, &table).await {
            Ok(Some(latest)) => {
                if let Some(old) = stream_arn.as_deref().filter(|old| *old != latest) {
                    tracing::warn!(old, new = %latest, "the table's stream changed; following the new stream from its first record");
                    stats.stream_changes.fetch_add(1, Ordering::SeqCst);
                    positions.clear();
                }
                stream_arn = Some(latest.clone());
                match poll(&streams, &latest, &handler, &options, &stats, &mut positions).await {
                    Ok(true) => wait = options.poll_interval,
                    Ok(false) => wait = (wait * 2).min(options.idle_interval.max(options.poll_interval)),
                    Err(e) => tracing::warn!(error = %e, "stream poll failed"),
                }
            }
            Ok(None) => tracing::warn!(table, "the table has no stream; nothing to deliver"),
            Err(e) => tracing::warn!(error = %e, "cannot describe the table"),
        }
        tokio::time::sleep(wait).await;
    }
}

async fn latest_stream(dynamodb: &aws_sdk_dynamodb::Client, table: &str) -> Result<Option<String>, BoxError> {
    let out = dynamodb.describe_table().table_name(table).send().await?;
    Ok(out.table.and_then(|t| t.latest_stream_arn))
}

/// Up to `limit` records after `position` (from the shard's start when `None`). `Err(Rewritten)`
/// when the record at `position` is no longer the one handled there.
async fn records_after(
    client: &Client,
    stream_arn: &str,
    shard: &str,
    position: Option<&Position>,
    limit: i32,
) -> Result<Result<Vec<Record>, Rewritten>, BoxError> {
    let Some(position) = position else {
        let it = iterator(client, stream_arn, shard, ShardIteratorType::TrimHorizon, None).await?;
        let out = client.get_records().shard_iterator(it).limit(limit).send().await?;
        return Ok(Ok(out.records.unwrap_or_default()));
    };
    let it =
        iterator(client, stream_arn, shard, ShardIteratorType::AtSequenceNumber, Some(&position.sequence))
            .await?;
    let out = client.get_records().shard_iterator(it).limit(limit + 1).send().await?;
    let mut records = out.records.unwrap_or_default();
    let same = records.first().is_some_and(|r| {
        r.event_id == position.event_id
            && r.dynamodb.as_ref().and_then(|d| d.sequence_number.as_deref()) == Some(&position.sequence)
    });
    if !same {
        return Ok(Err(Rewritten));
    }
    records.remove(0);
    Ok(Ok(records))
}

/// The stream no longer holds the record the pump last handled.
struct Rewritten;

fn position_of(record: &Record) -> Option<Position> {
    let sequence = record.dynamodb.as_ref()?.sequence_number.clone()?;
    Some(Position { sequence, event_id: record.event_id.clone() })
}

async fn poll(
    client: &Client,
    stream_arn: &str,
    handler: &Handler,
    options: &PumpOptions,
    stats: &PumpStats,
    positions: &mut HashMap<String, Position>,
) -> Result<bool, BoxError> {
    let mut delivered = false;
    for shard in shards(client, stream_arn).await? {
        let mut attempt = 0u32;
        loop {
            let records = match records_after(
                client,
                stream_arn,
                &shard,
                positions.get(&shard),
                options.batch_size,
            )
            .await?
            {
                Ok(records) => records,
                Err(Rewritten) => {
                    let at = positions.get(&shard).map(|p| p.sequence.clone()).unwrap_or_default();
                    tracing::error!(shard, sequence_number = %at, "the stream no longer holds the last record delivered (it was rewritten); delivering it again from its first record");
                    stats.stream_changes.fetch_add(1, Ordering::SeqCst);
                    positions.remove(&shard);
                    continue;
                }
            };
            if records.is_empty() {
                break;
            }
            let event = lambda_event(&records, stream_arn)?;
            delivered = true;
            let outcome = handler(event).await;
            stats.invocations.fetch_add(1, Ordering::SeqCst);
            let failed_from = match outcome {
                Ok(response) => {
                    stats
                        .failed_records
                        .fetch_add(response.batch_item_failures.len() as u64, Ordering::SeqCst);
                    response
                        .batch_item_failures
                        .iter()
                        .filter_map(|f| f.item_identifier.clone())
                        .min_by(|a, b| seq_cmp(a, b))
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the handler failed the whole batch");
                    records.first().and_then(|r| r.dynamodb.as_ref()).and_then(|d| d.sequence_number.clone())
                }
            };
            let index_of = |seq: &str| {
                records
                    .iter()
                    .position(|r| r.dynamodb.as_ref().and_then(|d| d.sequence_number.as_deref()) == Some(seq))
            };
            match failed_from {
                None => {
                    attempt = 0;
                    if let Some(p) = records.last().and_then(position_of) {
                        positions.insert(shard.clone(), p);
                    }
                }
                Some(seq) if attempt < options.max_retries => {
                    attempt += 1;
                    // Lambda checkpoints just before the lowest failure and retries from there.
                    if let Some(p) =
                        index_of(&seq).filter(|i| *i > 0).and_then(|i| position_of(&records[i - 1]))
                    {
                        positions.insert(shard.clone(), p);
                    }
                    tokio::time::sleep(options.poll_interval * 2u32.pow(attempt)).await;
                }
                Some(seq) => {
                    tracing::error!(sequence_number = %seq, "batch failed after all retries; sent to the on-failure destination");
                    attempt = 0;
                    match index_of(&seq).and_then(|i| position_of(&records[i])) {
                        Some(p) => {
                            positions.insert(shard.clone(), p);
                        }
                        None => {
                            if let Some(p) = records.last().and_then(position_of) {
                                positions.insert(shard.clone(), p);
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(delivered)
}

/// Sequence numbers are decimal strings of varying length.
fn seq_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}
