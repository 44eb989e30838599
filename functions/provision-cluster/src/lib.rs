//! DynamoDB Streams handler: carries out the intents the API recorded on clusters, through the
//! customer's role, and records what the cloud confirmed.
//!
//! - A cluster record whose state changed is a trigger only: the cluster is read fresh, and only
//!   an intent state (`pending`, `starting`, `stopping`, `terminating`) is acted on. A record
//!   delivered again after the work was done finds the cluster moved on and does nothing.
//! - A launch first looks for the cluster's instances by tag, so a launch whose confirmation was
//!   lost is never repeated: no second set of instances.
//! - The confirmation is a transition on condition that the cluster is still in the intent state
//!   it acted on; a member who changed it meanwhile wins, and the next record carries on from there.
//! - The cloud refusing (a role that cannot be assumed, an EC2 error) moves the cluster to
//!   `error` with the cloud's code; the intent can be retried by the member. A transient failure
//!   (throttled, unreachable) stops the batch at that record for Lambda to retry, in order.

use std::sync::Arc;

use aws_lambda_events::dynamodb::EventRecord;
use orgs::Clock;
use orgs::cloud::{CloudError, Fleet, Launch};
use orgs::domain::{Cluster, ClusterState, DomainError, Timestamp, Transition};
use orgs::store::stream::{Change, decode};
use orgs::store::{ClusterOutcome, Store};

/// What the provisioner holds for its lifetime.
pub struct Provisioner {
    pub store: Store,
    pub fleet: Arc<dyn Fleet>,
    pub clock: Arc<dyn Clock>,
}

/// What became of one record.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Not a cluster whose state changed.
    Ignored,
    /// The cluster is not (or no longer) in an intent state.
    Settled,
    /// The cloud confirmed: the cluster moved to this state.
    Moved(ClusterState),
    /// The cloud refused: the cluster is in `error`.
    Failed(String),
}

/// Whether a change is a cluster whose state changed (or a new cluster).
pub fn is_state_change(change: &Change) -> bool {
    matches!(change, Change::Cluster { state_changed: true, .. })
}

/// Whether a change is a cluster whose open ports changed.
pub fn is_port_change(change: &Change) -> bool {
    matches!(change, Change::Cluster { ports_changed: true, .. })
}

/// Carries out the intent a cluster record signals, if any (see the module's notes).
pub async fn handle_record(p: &Provisioner, record: &EventRecord) -> Result<Outcome, DomainError> {
    handle(p, &decode(record)?).await
}

/// Carries out the intent a decoded change signals, if any.
pub async fn handle(p: &Provisioner, change: &Change) -> Result<Outcome, DomainError> {
    let Change::Cluster { org, cluster: id, state_changed, ports_changed, .. } = change else {
        return Ok(Outcome::Ignored);
    };
    if !state_changed && !ports_changed {
        return Ok(Outcome::Ignored);
    }
    let Some(cluster) = p.store.cluster(org, id).await? else {
        return Ok(Outcome::Settled);
    };
    if !state_changed {
        return sync_ports(p, &cluster).await;
    }
    carry_out(p, &cluster).await
}

/// Makes the cluster's security group match its open ports (a running or stopped cluster with
/// instances; the others get their ports when they next run). A refusal is noted on the cluster.
async fn sync_ports(p: &Provisioner, cluster: &Cluster) -> Result<Outcome, DomainError> {
    if !matches!(cluster.state, ClusterState::Running | ClusterState::Stopped) || cluster.instances.is_empty()
    {
        return Ok(Outcome::Settled);
    }
    let Some(target) = p.store.cloud_target(&cluster.org_id).await? else {
        return Ok(Outcome::Settled);
    };
    match p.fleet.sync_ports(&target, &cluster.cluster_id, &cluster.instances, &cluster.open_ports).await {
        Ok(()) => Ok(Outcome::Moved(cluster.state)),
        Err(CloudError::Refused { code, message }) => {
            let problem = format!("{code}: {message}");
            p.store.note_cluster_problem(cluster, &problem, now(p)).await?;
            Ok(Outcome::Failed(problem))
        }
        Err(CloudError::Unavailable { context, source }) => Err(DomainError::Unavailable { context, source }),
    }
}

/// Acts on the cluster's current intent, if it has one.
pub async fn carry_out(p: &Provisioner, cluster: &Cluster) -> Result<Outcome, DomainError> {
    if !matches!(
        cluster.state,
        ClusterState::Pending | ClusterState::Starting | ClusterState::Stopping | ClusterState::Terminating
    ) {
        return Ok(Outcome::Settled);
    }
    let Some(target) = p.store.cloud_target(&cluster.org_id).await? else {
        return record_failure(p, cluster, "NoCloudAccount: the organization has no cloud account".into())
            .await;
    };
    let result = async {
        let found = p.fleet.find(&target, &cluster.cluster_id).await?;
        let ids: Vec<String> = found.iter().map(|i| i.id.clone()).collect();
        let (transition, instances) = match cluster.state {
            // Nothing launched yet (a new cluster, or one whose launch failed): launch.
            ClusterState::Pending | ClusterState::Starting if ids.is_empty() => {
                let launch = Launch {
                    cluster_id: cluster.cluster_id,
                    org_id: cluster.org_id,
                    name: String::from(cluster.name.clone()),
                    instance_type: cluster.instance_type.as_str().to_owned(),
                    count: 1 + cluster.workers,
                };
                (Transition::Running, Some(p.fleet.launch(&target, &launch).await?))
            }
            ClusterState::Pending => (Transition::Running, Some(ids)),
            ClusterState::Starting => {
                p.fleet.start(&target, &ids).await?;
                (Transition::Running, Some(ids))
            }
            ClusterState::Stopping => {
                if !ids.is_empty() {
                    p.fleet.stop(&target, &ids).await?;
                }
                (Transition::Stopped, None)
            }
            _ => {
                if !ids.is_empty() {
                    p.fleet.terminate(&target, &ids).await?;
                }
                (Transition::Terminated, None)
            }
        };
        Ok::<_, CloudError>((transition, instances))
    }
    .await;
    match result {
        Ok((transition, instances)) => {
            let outcome = ClusterOutcome { instances, error: None };
            match p.store.transition(cluster, transition, None, outcome, now(p)).await {
                Ok(moved) if moved.state == ClusterState::Running && !moved.open_ports.is_empty() => {
                    // Ports opened while it was not running apply now.
                    sync_ports(p, &moved).await.map(|_| Outcome::Moved(moved.state))
                }
                Ok(moved) => Ok(Outcome::Moved(moved.state)),
                // A member changed it meanwhile: their intent comes with its own record.
                Err(DomainError::Conflict(_)) => Ok(Outcome::Settled),
                Err(e) => Err(e),
            }
        }
        Err(CloudError::Refused { code, message }) => {
            record_failure(p, cluster, format!("{code}: {message}")).await
        }
        Err(CloudError::Unavailable { context, source }) => Err(DomainError::Unavailable { context, source }),
    }
}

async fn record_failure(p: &Provisioner, cluster: &Cluster, error: String) -> Result<Outcome, DomainError> {
    tracing::warn!(cluster_id = %cluster.cluster_id, %error, "the cloud refused; the cluster is in error");
    let outcome = ClusterOutcome { instances: None, error: Some(error.clone()) };
    match p.store.transition(cluster, Transition::Failed, None, outcome, now(p)).await {
        Ok(_) | Err(DomainError::Conflict(_)) => Ok(Outcome::Failed(error)),
        Err(e) => Err(e),
    }
}

fn now(p: &Provisioner) -> Timestamp {
    Timestamp::from_datetime(p.clock.now())
}
