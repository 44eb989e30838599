//! Scheduled: compares each live cluster with what EC2 says, through the customer's role, and
//! records what changed behind the service's back:
//!
//! - all instances stopped (`stopped externally`: the cluster is `stopped`), all gone
//!   (`terminated externally`: `terminated`);
//! - some instances of a running cluster stopped or gone: noted as the cluster's last error,
//!   naming them (`InstancesStopped`, `MissingInstances`); the rest keep running;
//! - instances of a stopped cluster started by someone else: stopped again and noted
//!   (`StartedExternally`). They are not charged: the service did not run them, and stopping them
//!   again keeps the account as the members left it;
//! - instances carrying the cluster's tag that the service did not launch: noted
//!   (`UnknownInstances`) and left alone, as they are not the service's to stop.
//!
//! Clusters with an intent in flight are the provisioner's and are left alone. Each write is
//! conditional on the state the reconciler read, so a member's action at the same moment wins.
//!
//! It stops a running cluster whose agent reports no activity for its `idle_stop_minutes` (audit
//! event `cluster_stopped_idle`); a cluster whose agent stopped reporting (no heartbeat for 15
//! minutes) is flagged in its `last_error` (`AgentSilent`), not stopped.
//!
//! It also charges every cluster with an open running interval (a running one, and one in `error`
//! whose stop failed: its instances still run), and stops the clusters of every organization
//! whose credits are then used up (audit event `cluster_stopped_for_credits`); a stop the cloud
//! refused leaves the cluster in `error`, still charged, and is tried again every run until the
//! cloud confirms it.
//!
//! Every tenant is served: each cluster is visited on its own, with a time limit, and its failure
//! (a conflict, a refused or slow cloud call, DynamoDB) is logged, counted and left for the next
//! run; it never stops the run for the others. A run visits clusters a few at a time, in the
//! order of the live-cluster index, starting after where the last run stopped (a persisted
//! position), and stops taking new ones when its time budget is spent: the next run carries on
//! from there, so every cluster comes round however many there are.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lambda_runtime::{Error, LambdaEvent};
use orgs::cloud::{CloudError, Fleet, Instance};
use orgs::domain::{Cluster, ClusterState, Credits, DomainError, EventAction, OrgId, Timestamp, Transition};
use orgs::store::{ClusterOutcome, Store};
use orgs::{Clock, SystemClock};
use serde::Serialize;

pub struct Reconciler {
    pub store: Store,
    pub fleet: Arc<dyn Fleet>,
    pub clock: Arc<dyn Clock>,
    pub budget: Budget,
}

/// How much one run may do.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// No cluster is started after this much of the run (the function's timeout is 300 s).
    pub time: Duration,
    /// At most this many clusters per run.
    pub clusters: usize,
    /// One cluster's visit is abandoned (and counted as failed) after this long.
    pub per_cluster: Duration,
    /// Clusters visited at once.
    pub concurrency: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            time: Duration::from_secs(240),
            clusters: 20_000,
            per_cluster: Duration::from_secs(20),
            concurrency: 8,
        }
    }
}

impl Reconciler {
    pub async fn from_env() -> Result<Self, orgs::config::ConfigError> {
        let sdk = orgs::aws::sdk_config(&orgs::config::Env)?;
        let image = orgs::config::cluster_image_id(&orgs::config::Env)?;
        Ok(Self {
            store: orgs::app::store_from_env()?,
            fleet: Arc::new(orgs::cloud::ec2::Ec2Fleet::new(sdk, image)),
            clock: Arc::new(SystemClock),
            budget: Budget::default(),
        })
    }
}

/// What one run found, for the log and the caller.
#[derive(Debug, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Live clusters visited this run, and those left for the next (the budget ran out).
    pub visited: usize,
    pub deferred: usize,
    pub checked: usize,
    pub stopped_externally: usize,
    pub terminated_externally: usize,
    pub missing_instances: usize,
    /// Running clusters with some instances stopped behind the service's back.
    pub partly_stopped: usize,
    /// Stopped clusters whose instances someone started: stopped again.
    pub started_externally: usize,
    /// Clusters with instances carrying their tag that the service did not launch.
    pub unknown_instances: usize,
    /// Clusters whose account could not be reached (left as they are; tried next run).
    pub unreachable: usize,
    /// Clusters (or organizations' credit checks) whose visit failed or timed out: logged, and
    /// tried again next run.
    pub failed: usize,
    /// Clusters charged, and what they were charged in all (credits).
    pub charged: usize,
    pub credits_charged: Credits,
    /// Clusters stopped because their organization has no credits left.
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

/// What one cluster's visit found.
#[derive(Default)]
struct Visit {
    charged: Option<Credits>,
    /// Its interval is open (running, or in `error` with instances that still run).
    billable: Option<Cluster>,
    checked: bool,
    idle: Option<Idle>,
    finding: Option<Finding>,
    unreachable: bool,
}

pub async fn reconcile(r: &Reconciler) -> Result<Report, DomainError> {
    let started = Instant::now();
    let mut report = Report::default();
    // Without the index there is nothing to visit: the run fails, and the next one tries again.
    let live = r.store.live_clusters().await?;
    let after = r.store.reconcile_position().await.unwrap_or_else(|e| {
        tracing::warn!(error = %orgs::telemetry::chain(&e), "cannot read where the last run stopped; starting from the first");
        None
    });
    let first = after.as_deref().map_or(0, |a| live.partition_point(|c| c.position.as_str() <= a));
    let budget = r.budget;
    let order: Vec<_> = live[first..].iter().chain(live[..first].iter()).take(budget.clusters).collect();
    let mut running: HashMap<OrgId, Vec<Cluster>> = HashMap::new();
    let mut last = None;
    // A few at a time; no cluster is started once the time budget is spent.
    for chunk in order.chunks(budget.concurrency.max(1)) {
        if started.elapsed() >= budget.time {
            break;
        }
        let mut pending = Vec::with_capacity(chunk.len());
        for listed in chunk {
            pending
                .push(tokio::time::timeout(budget.per_cluster, visit(r, &listed.org_id, &listed.cluster_id)));
        }
        let results = futures::future::join_all(pending).await;
        for (listed, visit) in chunk.iter().zip(results) {
            report.visited += 1;
            last = Some(listed.position.clone());
            let visit = match visit {
                Ok(Ok(visit)) => visit,
                Ok(Err(e)) => {
                    tracing::warn!(org_id = %listed.org_id, cluster_id = %listed.cluster_id, error = %orgs::telemetry::chain(&e), "cannot visit this cluster now; next run tries again");
                    report.failed += 1;
                    continue;
                }
                Err(_) => {
                    tracing::warn!(org_id = %listed.org_id, cluster_id = %listed.cluster_id, "visiting this cluster took too long; next run tries again");
                    report.failed += 1;
                    continue;
                }
            };
            if let Some(credits) = visit.charged {
                report.charged += 1;
                report.credits_charged = report.credits_charged + credits;
            }
            if let Some(cluster) = visit.billable {
                running.entry(cluster.org_id).or_default().push(cluster);
            }
            report.checked += usize::from(visit.checked);
            report.unreachable += usize::from(visit.unreachable);
            match visit.idle {
                Some(Idle::Stopped) => report.stopped_idle += 1,
                Some(Idle::Silent) => report.agent_silent += 1,
                _ => {}
            }
            if let Some(finding) = visit.finding {
                match finding {
                    Finding::InStep => {}
                    Finding::Stopped => report.stopped_externally += 1,
                    Finding::Terminated => report.terminated_externally += 1,
                    Finding::Drift { missing, stopped, started, unknown } => {
                        report.missing_instances += usize::from(missing);
                        report.partly_stopped += usize::from(stopped);
                        report.started_externally += usize::from(started);
                        report.unknown_instances += usize::from(unknown);
                    }
                }
            }
        }
    }
    report.deferred = live.len().saturating_sub(report.visited);
    if let Some(last) = last
        && let Err(e) = r.store.save_reconcile_position(&last, now(r)).await
    {
        tracing::warn!(error = %orgs::telemetry::chain(&e), "cannot record where this run stopped; the next starts from the first");
    }

    for (org, clusters) in running {
        match stop_for_credits(r, &org, &clusters).await {
            Ok(stopped) => report.stopped_for_credits += stopped,
            Err(e) => {
                tracing::warn!(org_id = %org, error = %orgs::telemetry::chain(&e), "cannot check this organization's credits now; next run tries again");
                report.failed += 1;
            }
        }
    }
    Ok(report)
}

/// One cluster: charged if its interval is open, idle-checked, and compared with EC2.
async fn visit(r: &Reconciler, org: &OrgId, id: &orgs::domain::ClusterId) -> Result<Visit, DomainError> {
    let mut visit = Visit::default();
    // The index is eventually consistent: act on the cluster as it is now.
    let Some(cluster) = r.store.cluster(org, id).await? else { return Ok(visit) };
    if cluster.running.is_some() {
        visit.charged = Some(r.store.charge(&cluster, now(r)).await?);
        visit.billable = Some(cluster.clone());
    }
    if !matches!(cluster.state, ClusterState::Running | ClusterState::Stopped) {
        return Ok(visit);
    }
    visit.checked = true;
    if cluster.state == ClusterState::Running
        && let Some(minutes) = cluster.idle_stop_minutes
    {
        let idle = idle(r, &cluster, minutes, now(r)).await?;
        let stopped = matches!(idle, Idle::Stopped);
        visit.idle = Some(idle);
        if stopped {
            return Ok(visit);
        }
    }
    match check(r, &cluster).await {
        Ok(finding) => visit.finding = Some(finding),
        Err(e) => {
            tracing::warn!(cluster_id = %cluster.cluster_id, error = %orgs::telemetry::chain(&e), "cannot reconcile this cluster now");
            visit.unreachable = true;
        }
    }
    Ok(visit)
}

/// When `org`'s credits are used up, stops its clusters whose interval is open: running ones,
/// and those in `error` whose stop failed (their instances still run), again each run until the
/// cloud confirms. Returns how many stops were asked for.
async fn stop_for_credits(r: &Reconciler, org: &OrgId, clusters: &[Cluster]) -> Result<usize, DomainError> {
    if !r.store.balance(org).await?.exhausted() {
        return Ok(0);
    }
    let mut stopped = 0;
    for listed in clusters {
        let Some(cluster) = r.store.cluster(org, &listed.cluster_id).await? else { continue };
        if cluster.running.is_none() || !matches!(cluster.state, ClusterState::Running | ClusterState::Error)
        {
            continue;
        }
        match r
            .store
            .stop_as_service(&cluster, "credits", EventAction::ClusterStoppedForCredits, now(r))
            .await
        {
            Ok(_) => stopped += 1,
            // A member stopped or terminated it meanwhile.
            Err(DomainError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(stopped)
}

fn now(r: &Reconciler) -> Timestamp {
    Timestamp::from_datetime(r.clock.now())
}

enum Idle {
    Busy,
    Stopped,
    Silent,
}

/// Stops the cluster if its nodes report no activity for `minutes`; flags it if every node is
/// silent. Activity is a session open at the last heartbeat, the last activity the agent saw,
/// or the cluster's start, whichever is latest.
async fn idle(r: &Reconciler, cluster: &Cluster, minutes: u32, now: Timestamp) -> Result<Idle, DomainError> {
    let Some(running) = &cluster.running else { return Ok(Idle::Busy) };
    let report = orgs::store::combined_report(&r.store.nodes(&cluster.cluster_id).await?);
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
    /// Some of it changed behind the service's back (noted on the cluster).
    Drift {
        missing: bool,
        stopped: bool,
        started: bool,
        unknown: bool,
    },
}

fn refused(e: CloudError) -> DomainError {
    match e {
        CloudError::Refused { code, message } => {
            DomainError::failed("reconciling a cluster", format!("{code}: {message}"))
        }
        CloudError::Unavailable { context, source } => DomainError::Unavailable { context, source },
    }
}

async fn check(r: &Reconciler, cluster: &Cluster) -> Result<Finding, DomainError> {
    let Some(target) = r.store.cloud_target(&cluster.org_id).await? else { return Ok(Finding::InStep) };
    let found = r.fleet.find(&target, &cluster.cluster_id).await.map_err(refused)?;
    let now = now(r);
    let moved = |transition| async move {
        match r.store.transition(cluster, transition, None, ClusterOutcome::default(), now).await {
            Ok(_) | Err(DomainError::Conflict(_)) => Ok(()),
            Err(e) => Err(e),
        }
    };
    let (ours, foreign): (Vec<&Instance>, Vec<&Instance>) =
        found.iter().partition(|i| cluster.instances.contains(&i.id));
    if ours.is_empty() && !cluster.instances.is_empty() {
        moved(Transition::TerminatedExternally).await?;
        return Ok(Finding::Terminated);
    }
    let is_stopped = |i: &&Instance| matches!(i.state.as_str(), "stopped" | "stopping");
    if cluster.state == ClusterState::Running && !ours.is_empty() && ours.iter().all(is_stopped) {
        moved(Transition::StoppedExternally).await?;
        return Ok(Finding::Stopped);
    }
    let ids = |list: &[&Instance]| list.iter().map(|i| i.id.as_str()).collect::<Vec<_>>().join(", ");
    let mut problems = Vec::new();
    let missing: Vec<&str> = cluster
        .instances
        .iter()
        .filter(|id| !ours.iter().any(|i| &i.id == *id))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        problems.push(format!("MissingInstances: {} no longer exist", missing.join(", ")));
    }
    let stopped: Vec<&Instance> = ours.iter().copied().filter(is_stopped).collect();
    let partly_stopped = cluster.state == ClusterState::Running && !stopped.is_empty();
    if partly_stopped {
        problems.push(format!("InstancesStopped: {} stopped outside the service", ids(&stopped)));
    }
    let started: Vec<&Instance> = if cluster.state == ClusterState::Stopped {
        ours.iter().copied().filter(|i| !is_stopped(i)).collect()
    } else {
        Vec::new()
    };
    if !started.is_empty() {
        let started_ids: Vec<String> = started.iter().map(|i| i.id.clone()).collect();
        r.fleet.stop(&target, &started_ids).await.map_err(refused)?;
        problems.push(format!(
            "StartedExternally: {} were started outside the service and stopped again",
            ids(&started)
        ));
    }
    if !foreign.is_empty() {
        problems.push(format!(
            "UnknownInstances: {} carry this cluster's tag but were not launched by the service (left alone)",
            ids(&foreign)
        ));
    }
    if problems.is_empty() {
        return Ok(Finding::InStep);
    }
    r.store.note_cluster_problem(cluster, &problems.join("; "), now).await?;
    Ok(Finding::Drift {
        missing: !missing.is_empty(),
        stopped: partly_stopped,
        started: !started.is_empty(),
        unknown: !foreign.is_empty(),
    })
}
