//! The local event source mapping: reads the table's stream and invokes the mailer with Lambda's
//! semantics. Batches of up to `batch_size` records; `batchItemFailures` restart the shard at the
//! lowest failed sequence number; a batch that keeps failing is retried `max_retries` times with
//! backoff and then dropped to the log (production: the on-failure destination). A function error
//! retries the whole batch.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

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
}

#[derive(Debug, Clone)]
pub struct PumpOptions {
    pub batch_size: i32,
    pub max_retries: u32,
    pub poll_interval: Duration,
}

impl Default for PumpOptions {
    fn default() -> Self {
        Self { batch_size: 10, max_retries: 3, poll_interval: Duration::from_millis(100) }
    }
}

/// The Lambda event a batch of stream records becomes.
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

/// Runs until the task is aborted.
pub async fn run(
    client: Client,
    stream_arn: String,
    mailer: Arc<InvitationMailer>,
    options: PumpOptions,
    stats: Arc<PumpStats>,
) {
    let mut positions: HashMap<String, String> = HashMap::new();
    loop {
        if let Err(e) = poll(&client, &stream_arn, &mailer, &options, &stats, &mut positions).await {
            tracing::warn!(error = %e, "stream poll failed");
        }
        tokio::time::sleep(options.poll_interval).await;
    }
}

async fn poll(
    client: &Client,
    stream_arn: &str,
    mailer: &InvitationMailer,
    options: &PumpOptions,
    stats: &PumpStats,
    positions: &mut HashMap<String, String>,
) -> Result<(), BoxError> {
    for shard in shards(client, stream_arn).await? {
        let mut it = match positions.get(&shard) {
            Some(it) => it.clone(),
            None => iterator(client, stream_arn, &shard, ShardIteratorType::TrimHorizon, None).await?,
        };
        let mut attempt = 0u32;
        loop {
            let out = client.get_records().shard_iterator(&it).limit(options.batch_size).send().await?;
            let records = out.records.unwrap_or_default();
            let next = out.next_shard_iterator.clone();
            if records.is_empty() {
                if let Some(next) = next {
                    it = next;
                }
                break;
            }
            let event = lambda_event(&records, stream_arn)?;
            let outcome =
                send_invitation_email::handle(mailer, LambdaEvent::new(event, Default::default())).await;
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
                    tracing::warn!(error = %e, "mailer failed the whole batch");
                    records.first().and_then(|r| r.dynamodb.as_ref()).and_then(|d| d.sequence_number.clone())
                }
            };
            match failed_from {
                None => {
                    attempt = 0;
                    match next {
                        Some(next) => it = next,
                        None => break,
                    }
                }
                Some(seq) if attempt < options.max_retries => {
                    attempt += 1;
                    tokio::time::sleep(options.poll_interval * 2u32.pow(attempt)).await;
                    it =
                        iterator(client, stream_arn, &shard, ShardIteratorType::AtSequenceNumber, Some(&seq))
                            .await?;
                }
                Some(seq) => {
                    tracing::error!(sequence_number = %seq, "batch failed after all retries; sent to the on-failure destination");
                    attempt = 0;
                    it = iterator(
                        client,
                        stream_arn,
                        &shard,
                        ShardIteratorType::AfterSequenceNumber,
                        Some(&seq),
                    )
                    .await?;
                }
            }
        }
        positions.insert(shard, it);
    }
    Ok(())
}

/// Sequence numbers are decimal strings of varying length.
fn seq_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}
