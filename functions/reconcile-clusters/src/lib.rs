//! Scheduled: compares each live cluster with what EC2 says, through the customer's role, and
//! records what changed behind the service's back: all instances stopped (`stopped externally`:
//! the cluster is `stopped`), all gone (`terminated externally`: `terminated`), some gone (noted
//! as the cluster's last error, naming them). Clusters with an intent in flight are the
//! provisioner's and are left alone. Each write is conditional on the state the reconciler read,
//! so a member's action at the same moment wins.
//!
//! It stops a running cluster whose agent reports no activity for its `idle_stop_minutes` (audit
//! event `cluster_stopped_idle`); a cluster whose agent stopped reporting (no heartbeat for 15
//! minutes) is flagged in its `last_error` (`AgentSilent`), not stopped.
//!
//! It also charges every running cluster for its running since the last charge, and stops the
//! running clusters of every organization whose credits are then used up (audit event
//! `cluster_stopped_for_credits`).

use std::collections::HashMap;
use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent};
use orgs::cloud::{CloudError, Fleet};
use orgs::domain::{Cluster, ClusterState, DomainError, EventAction, OrgId, Timestamp, Transition};
use orgs::store::{ClusterOutcome, Store};
use orgs::{Clock, SystemClock};
use serde::Serialize;

pub struct Reconciler {
    pub store: Store,
    pub fleet: Arc<dyn Fleet>,
    pub clock: Arc<dyn Clock>,
}

impl Reconciler {
    pub async fn from_env() -> Result<Self, orgs::config::ConfigError> {
        let sdk = orgs::aws::sdk_config(&orgs::config::Env)?;
        let image = orgs::config::cluster_image_id(&orgs::config::Env)?;
        Ok(Self {
            store: orgs::app::store_from_env()?,
            fleet: Arc::new(provision_cluster::ec2::Ec2Fleet::new(sdk, image)),
            clock: Arc::new(SystemClock),
        })
    }
}

/// What one run found, for the log and the caller.
#[derive(Debug, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub checked: usize,
    pub stopped_externally: usize,
    pub terminated_externally: usize,
    pub missing_instances: usize,
    /// Clusters whose account could not be reached (left as they are; tried next run).
    pub unreachable: usize,
    /// Running clusters charged, and what they were charged in all (credits).
    pub charged: usize,
    pub credits_charged: orgs::domain::Credits,
    /// Running clusters stopped because their organization has no credits left.
    pub stopped_for_credits: usize,
    /// Running clusters stopped for being idle, and those whose agent went silent (flagged).
    pub stopped_idle: usize,
    pub agent_silent: usize,
}

/// No heartbeat for this long: the agent is silent, and idle stop waits for it.
pub const SILENT_AFTER_MINUTES: i64 = 15;

pub async fn handle(r: &Reconciler, _event: LambdaEvent<serde_json::Value>) -> Result<Report, Error> {
    let report = reconcile(r).await?;
    tracing::info!(?report, "reconciliation done");
    Ok(report)
}

pub async fn reconcile(r: &Reconciler) -> Result<Report, DomainError> {
    let mut report = Report::default();
    let mut running: HashMap<OrgId, Vec<Cluster>> = HashMap::new();
    for listed in r.store.live_clusters().await? {
        // The index is eventually consistent: act on the cluster as it is now.
        let Some(cluster) = r.store.cluster(&listed.org_id, &listed.cluster_id).await? else { continue };
        if cluster.running.is_some() {
            let charged = r.store.charge(&cluster, now(r)).await?;
            report.charged += 1;
            report.credits_charged = report.credits_charged + charged;
            running.entry(cluster.org_id).or_default().push(cluster.clone());
        }
        if !matches!(cluster.state, ClusterState::Running | ClusterState::Stopped) {
            continue;
        }
        report.checked += 1;
        if cluster.state == ClusterState::Running
            && let Some(minutes) = cluster.idle_stop_minutes
        {
            match idle(r, &cluster, minutes, now(r)).await {
                Ok(Idle::Stopped) => {
                    report.stopped_idle += 1;
                    continue;
                }
                Ok(Idle::Silent) => report.agent_silent += 1,
                Ok(Idle::Busy) => {}
                Err(e) => return Err(e),
            }
        }
        match check(r, &cluster).await {
            Ok(Finding::InStep) => {}
            Ok(Finding::Stopped) => report.stopped_externally += 1,
            Ok(Finding::Terminated) => report.terminated_externally += 1,
            Ok(Finding::Missing) => report.missing_instances += 1,
            Err(e) => {
                tracing::warn!(cluster_id = %cluster.cluster_id, error = %orgs::http::chain(&e), "cannot reconcile this cluster now");
                report.unreachable += 1;
            }
        }
    }
    for (org, clusters) in running {
        if !r.store.balance(&org).await?.exhausted() {
            continue;
        }
        for listed in clusters {
            let Some(cluster) = r.store.cluster(&org, &listed.cluster_id).await? else { continue };
            if cluster.state != ClusterState::Running {
                continue;
            }
            match r
                .store
                .stop_as_service(&cluster, "credits", EventAction::ClusterStoppedForCredits, now(r))
                .await
            {
                Ok(_) => report.stopped_for_credits += 1,
                // A member stopped or terminated it meanwhile.
                Err(DomainError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(report)
}

fn now(r: &Reconciler) -> Timestamp {
    Timestamp::from_datetime(r.clock.now())
}

enum Idle {
    Busy,
    Stopped,
    Silent,
}

/// Stops the cluster if its agent reports no activity for `minutes`; flags it if the agent is
/// silent. Activity is a session open at the last heartbeat, the last activity the agent saw,
/// or the cluster's start, whichever is latest.
async fn idle(r: &Reconciler, cluster: &Cluster, minutes: u32, now: Timestamp) -> Result<Idle, DomainError> {
    let Some(running) = &cluster.running else { return Ok(Idle::Busy) };
    let report = r.store.agent(&cluster.cluster_id).await?.and_then(|a| a.report);
    let heard = report.as_ref().map_or(running.since, |a| a.at.max(running.since));
    if now.unix() - heard.unix() > SILENT_AFTER_MINUTES * 60 {
        let problem = format!("AgentSilent: no heartbeat since {heard}; idle stop waits for the agent");
        r.store.note_cluster_problem(cluster, &problem, now).await?;
        return Ok(Idle::Silent);
    }
    let active = match &report {
        Some(a) if a.active_sessions > 0 => a.at,
        Some(a) => a.last_activity_at.map_or(running.since, |t| t.max(running.since)),
        None => running.since,
    };
    if now.unix() - active.unix() < i64::from(minutes) * 60 {
        return Ok(Idle::Busy);
    }
    match r.store.stop_as_service(cluster, "idle_stop", EventAction::ClusterStoppedIdle, now).await {
        Ok(_) => Ok(Idle::Stopped),
        // A member acted on it meanwhile.
        Err(DomainError::Conflict(_)) => Ok(Idle::Busy),
        Err(e) => Err(e),
    }
}

enum Finding {
    InStep,
    Stopped,
    Terminated,
    Missing,
}

async fn check(r: &Reconciler, cluster: &Cluster) -> Result<Finding, DomainError> {
    let Some(target) = r.store.cloud_target(&cluster.org_id).await? else { return Ok(Finding::InStep) };
    let found = r.fleet.find(&target, &cluster.cluster_id).await.map_err(|e| match e {
        CloudError::Refused { code, message } => {
            DomainError::failed("reconciling a cluster", format!("{code}: {message}"))
        }
        CloudError::Unavailable { context, source } => DomainError::Unavailable { context, source },
    })?;
    let now = now(r);
    let moved = |transition| async move {
        match r.store.transition(cluster, transition, None, ClusterOutcome::default(), now).await {
            Ok(_) | Err(DomainError::Conflict(_)) => Ok(()),
            Err(e) => Err(e),
        }
    };
    if found.is_empty() {
        moved(Transition::TerminatedExternally).await?;
        return Ok(Finding::Terminated);
    }
    let all_stopped = found.iter().all(|i| matches!(i.state.as_str(), "stopped" | "stopping"));
    if cluster.state == ClusterState::Running && all_stopped {
        moved(Transition::StoppedExternally).await?;
        return Ok(Finding::Stopped);
    }
    let missing: Vec<&str> = cluster
        .instances
        .iter()
        .filter(|id| !found.iter().any(|i| &i.id == *id))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        let problem = format!("MissingInstances: {} no longer exist", missing.join(", "));
        r.store.note_cluster_problem(cluster, &problem, now).await?;
        return Ok(Finding::Missing);
    }
    Ok(Finding::InStep)
}
