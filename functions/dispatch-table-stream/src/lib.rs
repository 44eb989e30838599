//! DynamoDB Streams handler: the table's ordered reader. Each record goes, in stream order, to the
//! operations that follow the table's changes, each in its own crate:
//!
//! - `sync-organization-name`: a rename reaches every membership and pending invitation;
//! - `sync-cluster-users`: members' accounts on managed clusters follow joins, leaves and roles;
//! - `provision-cluster`: a cluster's intent is carried out in the customer's account;
//! - webhooks: a change an organization's endpoints may hear about (a member invited, joined,
//!   removed or given another role; a cluster created or moved to another state) is queued as one
//!   delivery per endpoint that asked for it. Queuing is one read and a write per endpoint; the
//!   sending is `deliver-webhooks`'s, so that a slow receiver never holds back this stream.
//!
//! Why one reader for three: AWS throttles a stream shard read by more than two consumers, and
//! the table's other reader is the invitation mailer (kept apart so that an SES outage or its
//! sending rate never holds back clusters and accounts). These three need the same order (a
//! member's join before their removal; a cluster's creation before its start) and talk only to
//! DynamoDB and the customer's EC2, so they share a batch: each decides from the record's images
//! whether the record concerns it and skips it without a read otherwise.
//!
//! A failure of any of them stops the batch at that record and reports exactly it in
//! `batchItemFailures`: Lambda retries from there, in order. The ones that had already handled
//! the record handle it again, which each of them makes safe (they act on the table as it is now,
//! never on the image).

use std::sync::Arc;

use aws_lambda_events::dynamodb::{Event, EventRecord};
use aws_lambda_events::streams::DynamoDbEventResponse;
use lambda_runtime::{Error, LambdaEvent};
use orgs::SystemClock;
use orgs::domain::DomainError;
use provision_cluster::Provisioner;
use sync_cluster_users::UserSync;
use sync_organization_name::NameSync;

/// The operations that follow the table, built once per cold start.
pub struct Followers {
    pub names: Arc<NameSync>,
    pub users: Arc<UserSync>,
    pub provisioner: Arc<Provisioner>,
    /// Where webhook deliveries are queued.
    pub webhooks: orgs::store::Store,
}

impl Followers {
    /// One SDK configuration and one store for all three.
    pub fn from_env() -> Result<Self, orgs::config::ConfigError> {
        let sdk = orgs::aws::sdk_config(&orgs::config::Env)?;
        let store = orgs::app::store_from_env()?;
        let image = orgs::config::cluster_image_id(&orgs::config::Env)?;
        let bootstrap = orgs::config::node_bootstrap(&orgs::config::Env)?;
        let clock = Arc::new(SystemClock);
        Ok(Self {
            names: Arc::new(NameSync { store: store.clone() }),
            users: Arc::new(UserSync { store: store.clone(), clock: clock.clone() }),
            webhooks: store.clone(),
            provisioner: Arc::new(Provisioner {
                store,
                fleet: Arc::new(orgs::cloud::ec2::Ec2Fleet::new(sdk, image).with_bootstrap(bootstrap)),
                clock,
            }),
        })
    }
}

/// What each operation made of one record.
#[derive(Debug, PartialEq, Eq)]
pub struct Outcome {
    pub names: sync_organization_name::Outcome,
    pub users: sync_cluster_users::Outcome,
    pub clusters: provision_cluster::Outcome,
    /// Deliveries queued for the record (none when it was queued before).
    pub webhook_deliveries: usize,
}

pub async fn handle(
    followers: &Followers,
    event: LambdaEvent<Event>,
) -> Result<DynamoDbEventResponse, Error> {
    // Boxed: the operations' futures together are deep for a worker thread's stack.
    Ok(orgs::stream::in_order(&event.payload.records, "a table change", |record| {
        Box::pin(dispatch(followers, record))
    })
    .await)
}

/// Hands `record` to each operation in turn; the first failure, named, fails the record.
pub async fn dispatch(followers: &Followers, record: &EventRecord) -> Result<Outcome, DomainError> {
    let named =
        |what: &'static str| move |e: &DomainError| tracing::warn!(operation = what, error = %e, "failed");
    let change = orgs::store::stream::decode(record).inspect_err(named("decoding"))?;
    let names =
        sync_organization_name::handle(&followers.names, &change).await.inspect_err(named("name copy"))?;
    let users = sync_cluster_users::handle(&followers.users, &change)
        .await
        .inspect_err(named("cluster user sync"))?;
    let clusters = provision_cluster::handle(&followers.provisioner, &change)
        .await
        .inspect_err(named("provisioning"))?;
    let webhook_deliveries =
        match orgs::store::stream::webhook_event(record).inspect_err(named("webhook event"))? {
            Some(event) => {
                followers.webhooks.queue_webhook_event(&event).await.inspect_err(named("webhook queueing"))?
            }
            None => 0,
        };
    Ok(Outcome { names, users, clusters, webhook_deliveries })
}
