//! Clusters: created in the organization's account (which then cannot change), listed, and moved
//! through the state machine, each write on condition that the state is the one it read.

use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;

use super::Store;
use super::credits::CREDITS;
use super::expr::{Changes, absent, attr};
use super::items::{ClusterItem, from_item, to_item};
use super::keys;
use super::organizations::EVENT;
use super::pages::{Page, PageRequest, cursor, position};
use super::plumbing::{Query, Tx, TxError, built, contention, key, number, s, stored};
use super::schema;
use crate::domain::authz::Grant;
use crate::domain::{
    Actor, AuditEvent, CloudAccount, Cluster, ClusterState, DomainError, EventAction, Membership, OrgId,
    Running, Timestamp, Transition,
};

/// The cloud account item's count of clusters not yet terminated.
pub(super) const LIVE_CLUSTERS: &str = "live_clusters";
const CLUSTER: &str = "cluster";
const ACCOUNT: &str = "cloud account";
const USAGE: &str = "usage interval";

/// What a transition writes besides the state.
#[derive(Debug, Default, Clone)]
pub struct Outcome {
    /// The instances the cloud reported (replaces the list).
    pub instances: Option<Vec<String>>,
    /// The cloud's error; `None` clears the last one.
    pub error: Option<String>,
}

/// A live cluster as the index lists it, with its place in the reconciler's walk.
#[derive(Debug, Clone)]
pub struct LiveCluster {
    pub position: String,
    pub org_id: OrgId,
    pub cluster_id: crate::domain::ClusterId,
}

impl Store {
    /// Creates a cluster in `account`, on condition that the organization has credits left and
    /// that its account is still that
    /// one (and counting it as live there), with its audit event, while the actor may.
    pub async fn create_cluster(
        &self,
        actor: &Membership,
        grant: &Grant,
        cluster: &Cluster,
        account: &CloudAccount,
        max_live: u32,
    ) -> Result<(), DomainError> {
        let org = &cluster.org_id;
        // The count of clusters not yet terminated, under the cap: parallel creations cannot
        // pass it, as each takes its place in the count in its own transaction.
        let live = attr(LIVE_CLUSTERS);
        let count = Changes::new().count(live.clone(), number(0), number(1)).when(
            attr("account")
                .dot("role_arn")
                .eq(s(account.role_arn.as_str()))
                .and(attr("account").dot("region").eq(s(account.region.as_str())))
                .and(live.missing().or(live.lt(number(max_live)))),
        );
        let count = built(
            count
                .onto(self.update(key(keys::org_pk(org), keys::CLOUD_ACCOUNT_SK)))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .build(),
        )?;
        let event = AuditEvent::new(*org, actor.actor(), EventAction::ClusterCreated, cluster.created_at)
            .with("cluster_id", cluster.cluster_id)
            .with("name", String::from(cluster.name.clone()))
            .with("instance_type", cluster.instance_type.as_str())
            .with("workers", cluster.workers);
        // Its first charging period set aside, if the credits free cover it.
        let hold = cluster.credits_held.unwrap_or_else(|| cluster.hold());
        let funds = self.funds(org).await?;
        let tx = Tx::new()
            .put(CLUSTER, self.put(to_item(&ClusterItem::from(cluster))?, absent())?)
            .update(ACCOUNT, count)
            .update(CREDITS, self.take_hold(org, &funds, hold)?)
            .put(EVENT, self.event_put(&event)?);
        let tx = self.still_granted(tx, org, actor, grant)?;
        self.commit("cluster creation", tx).await.map_err(|e| {
            e.explain(|c| {
                if c.failed(CREDITS) {
                    // Consumed or held since the read: whether it still fits is decided again.
                    Some(DomainError::Stale("the organization's credits"))
                } else if c.failed(ACCOUNT) {
                    let live = c
                        .old_item(ACCOUNT)
                        .and_then(|item| item.get(LIVE_CLUSTERS).and_then(|v| v.as_n().ok()).cloned())
                        .and_then(|n| n.parse::<u32>().ok())
                        .unwrap_or(0);
                    Some(if live >= max_live {
                        DomainError::Conflict(format!(
                            "this organization has {live} clusters that are not terminated, its limit: terminate one first"
                        ))
                    } else {
                        DomainError::Stale("the organization's cloud account")
                    })
                } else if c.failed(CLUSTER) {
                    Some(contention())
                } else {
                    super::grants::lost_grant(c, "create clusters")
                }
            })
        })
    }

    pub async fn cluster(
        &self,
        org: &OrgId,
        id: &crate::domain::ClusterId,
    ) -> Result<Option<Cluster>, DomainError> {
        self.get(keys::org_pk(org), keys::cluster_sk(id))
            .await?
            .map(|i| from_item::<ClusterItem>(i).map(|c| c.cluster))
            .transpose()
    }

    /// One page of the organization's clusters, by id (UUIDv7: creation order).
    pub async fn clusters_page(
        &self,
        org: &OrgId,
        request: &PageRequest,
    ) -> Result<Page<Cluster>, DomainError> {
        let partition = keys::org_pk(org);
        let pos = position(request, "clusters", org, &[schema::PK, schema::SK], |name, value| match name {
            schema::PK => value == partition,
            _ => value.starts_with(keys::CLUSTER_PREFIX),
        })?;
        let (items, last) = self
            .page(Query::partition(partition.clone()).prefix(keys::CLUSTER_PREFIX), pos.limit, pos.start)
            .await?;
        let clusters = items
            .into_iter()
            .map(|i| from_item::<ClusterItem>(i).map(|c| c.cluster))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items: clusters, next_cursor: cursor("clusters", org, last)? })
    }

    /// Every live cluster, of every organization, from the sparse index (eventually consistent:
    /// the reconciler re-reads each one before it writes).
    /// Every live cluster's ids, in the index's order. Only the index key is read: one damaged
    /// cluster item fails its own visit, not the listing of everyone's.
    pub async fn live_clusters(&self) -> Result<Vec<LiveCluster>, DomainError> {
        let items = self.query(Query::gsi1(keys::LIVE_CLUSTERS.to_owned())).await?;
        let mut live: Vec<LiveCluster> = items
            .into_iter()
            .filter_map(|item| {
                let position = item.get(super::schema::GSI1_SK).and_then(|v| v.as_s().ok())?.clone();
                let (org, cluster) = position.split_once('#')?;
                let parsed = OrgId::parse(org).ok().zip(crate::domain::ClusterId::parse(cluster).ok());
                if parsed.is_none() {
                    tracing::warn!(%position, "a live-cluster index entry that names no cluster");
                }
                let (org_id, cluster_id) = parsed?;
                Some(LiveCluster { position, org_id, cluster_id })
            })
            .collect();
        live.sort_by(|a, b| a.position.cmp(&b.position));
        Ok(live)
    }

    /// Where reconciliation's last run stopped (the position of the last cluster it visited).
    pub async fn reconcile_position(&self) -> Result<Option<String>, DomainError> {
        self.get(keys::RECONCILE_PK.to_owned(), keys::POSITION_SK)
            .await?
            .map(|i| from_item::<super::items::PositionItem>(i).map(|p| p.after))
            .transpose()
    }

    /// Records where this run stopped. One run at a time (the function's reserved concurrency
    /// is 1), so a plain put.
    pub async fn save_reconcile_position(&self, after: &str, now: Timestamp) -> Result<(), DomainError> {
        let item = super::items::PositionItem {
            pk: keys::RECONCILE_PK.to_owned(),
            sk: keys::POSITION_SK.to_owned(),
            entity: super::items::Entity::Position,
            after: after.to_owned(),
            at: now,
        };
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&item)?))
            .send()
            .await
            .map_err(|e| crate::aws::failure("DynamoDB PutItem", e))?;
        Ok(())
    }

    /// Notes a problem found on a cluster without changing its state (instances gone missing).
    pub async fn note_cluster_problem(
        &self,
        cluster: &Cluster,
        problem: &str,
        now: Timestamp,
    ) -> Result<bool, DomainError> {
        let last_error = attr("last_error");
        let noted = Changes::new()
            .set(last_error.clone(), s(problem))
            .set(attr("updated_at"), stored(&now)?)
            .when(attr("state").eq(stored(&cluster.state)?))
            .when(last_error.missing().or(last_error.ne(s(problem))));
        self.update_if(key(keys::org_pk(&cluster.org_id), keys::cluster_sk(&cluster.cluster_id)), noted).await
    }

    /// Opens or closes `port` on a cluster that is not terminating, while the member may. Opening
    /// an open port or closing a closed one changes nothing (and writes nothing). The provisioner
    /// follows the record.
    pub async fn set_port(
        &self,
        cluster: &Cluster,
        port: u16,
        open: bool,
        member: &Membership,
        grant: &Grant,
        now: Timestamp,
    ) -> Result<Cluster, DomainError> {
        let mut ports = cluster.open_ports.clone();
        let present = ports.contains(&port);
        if present == open {
            return Ok(cluster.clone());
        }
        if open {
            ports.push(port);
            ports.sort_unstable();
        } else {
            ports.retain(|p| *p != port);
        }
        let org = &cluster.org_id;
        // The ports as read: none read may also be an item written before ports existed.
        let open_ports = attr("open_ports");
        let mut as_read = open_ports.eq(stored(&cluster.open_ports)?);
        if cluster.open_ports.is_empty() {
            as_read = as_read.or(open_ports.missing());
        }
        let state = attr("state");
        let changes = Changes::new()
            .set(open_ports.clone(), stored(&ports)?)
            .set(attr("updated_at"), stored(&now)?)
            .when(state.ne(stored(&ClusterState::Terminating)?))
            .when(state.ne(stored(&ClusterState::Terminated)?))
            .when(as_read);
        let update = built(
            changes
                .onto(self.update(key(keys::org_pk(org), keys::cluster_sk(&cluster.cluster_id))))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .build(),
        )?;
        let event = AuditEvent::new(*org, member.actor(), EventAction::PortChanged, now)
            .with("cluster_id", cluster.cluster_id)
            .with("port", port)
            .with("open", open);
        let tx = Tx::new().update(CLUSTER, update).put(EVENT, self.event_put(&event)?);
        let tx = self.still_granted(tx, org, member, grant)?;
        self.commit("port change", tx).await.map_err(|e| {
            e.explain(|c| {
                if c.failed(CLUSTER) {
                    let now_is = state_when_refused(c);
                    Some(match now_is {
                        Some(state @ (ClusterState::Terminating | ClusterState::Terminated)) => {
                            DomainError::Conflict(format!("a cluster that is {state} has no ports to change"))
                        }
                        Some(_) => contention(),
                        None => DomainError::NotFound("cluster"),
                    })
                } else {
                    super::grants::lost_grant(c, "open and close ports")
                }
            })
        })?;
        Ok(Cluster { open_ports: ports, updated_at: now, ..cluster.clone() })
    }

    /// The names of the organization's clusters that are not terminated.
    pub async fn live_cluster_names(&self, org: &OrgId) -> Result<Vec<String>, DomainError> {
        let items = self.query(Query::partition(keys::org_pk(org)).prefix(keys::CLUSTER_PREFIX)).await?;
        let mut names = Vec::new();
        for item in items {
            let cluster = from_item::<ClusterItem>(item)?.cluster;
            if cluster.state.is_live() {
                names.push(String::from(cluster.name));
            }
        }
        Ok(names)
    }

    /// Moves `cluster` by `transition`, on condition that it is still in the state it was read
    /// in. A member's request carries the member (audit event, and the grant as conditions); the
    /// provisioner's confirmations carry none. Reaching `terminated` frees the account.
    ///
    /// A start asked by a member needs credits left (402). Reaching `running` starts the
    /// interval that is charged; reaching `stopped` or `terminated` records it and charges the
    /// rest, in the same transaction, so an interval is recorded exactly once.
    pub async fn transition(
        &self,
        cluster: &Cluster,
        transition: Transition,
        by: Option<(&Membership, &Grant)>,
        outcome: Outcome,
        now: Timestamp,
    ) -> Result<Cluster, DomainError> {
        let requester = match by {
            Some((member, grant)) => Requester::Member(member, grant),
            None => Requester::Cloud,
        };
        self.transition_by(cluster, transition, requester, outcome, now).await
    }

    /// Stops a running cluster as the service itself (`service` names it in the audit event
    /// `action`): the scheduled job, when credits run out or the cluster is idle.
    pub async fn stop_as_service(
        &self,
        cluster: &Cluster,
        service: &'static str,
        action: EventAction,
        now: Timestamp,
    ) -> Result<Cluster, DomainError> {
        let by = Requester::Service(service, action);
        self.transition_by(cluster, Transition::Stop, by, Outcome::default(), now).await
    }

    /// A transition that ends an interval is also conditioned on the charge it read: when the
    /// scheduled job charged the cluster in between (and nothing else changed), it is tried
    /// again from the fresh item, so the job never makes a confirmation fail.
    async fn transition_by(
        &self,
        cluster: &Cluster,
        transition: Transition,
        requester: Requester<'_>,
        outcome: Outcome,
        now: Timestamp,
    ) -> Result<Cluster, DomainError> {
        let mut cluster = cluster.clone();
        for _ in 0..3 {
            match self.transition_once(&cluster, transition, requester, outcome.clone(), now).await {
                Err(Refused::Charged(fresh)) => cluster = *fresh,
                Err(Refused::Because(e)) => return Err(e),
                Ok(moved) => return Ok(moved),
            }
        }
        Err(contention())
    }

    async fn transition_once(
        &self,
        cluster: &Cluster,
        transition: Transition,
        requester: Requester<'_>,
        outcome: Outcome,
        now: Timestamp,
    ) -> Result<Cluster, Refused> {
        let by = match requester {
            Requester::Member(member, grant) => Some((member, grant)),
            _ => None,
        };
        let next = cluster.state.next(transition)?;
        let started = cluster.starts_running(next).then(|| Running {
            since: now,
            started_by: cluster.last_actor.clone(),
            charged_until: now,
        });
        let ended = cluster.usage_ended(next, now);
        let org = &cluster.org_id;
        // A member's start sets the cluster's first charging period aside (unless it still holds
        // one, as after a stop that failed); the end of its costing gives the hold back.
        let taking = (transition == Transition::Start && by.is_some() && cluster.credits_held.is_none())
            .then(|| cluster.hold());
        let releasing =
            cluster.releases_hold(next, started.is_some()).then_some(cluster.credits_held).flatten();
        let funds = match taking {
            Some(_) => Some(self.funds(org).await?),
            None => None,
        };
        let state = attr("state");
        let running_path = attr("running");
        let mut changes = Changes::new()
            .set(state.clone(), stored(&next)?)
            .set(attr("updated_at"), stored(&now)?)
            .when(state.eq(stored(&cluster.state)?));
        if let Some(instances) = &outcome.instances {
            changes = changes.set(attr("instances"), stored(instances)?);
        }
        if let Some((member, _)) = by {
            changes = changes.set(attr("last_actor"), s(member.user_id.as_str()));
        }
        if let Some(hold) = taking {
            changes = changes.set(attr("credits_held"), stored(&hold)?);
        }
        if let Some(running) = &started {
            changes = changes.set(running_path.clone(), stored(running)?);
        }
        match &outcome.error {
            Some(error) => changes = changes.set(attr("last_error"), s(error.as_str())),
            None if next != ClusterState::Error => changes = changes.remove(attr("last_error")),
            None => {}
        }
        if let (Some(_), Some(running)) = (&ended, &cluster.running) {
            changes = changes
                .when(running_path.clone().dot("charged_until").eq(stored(&running.charged_until)?))
                .remove(running_path);
        }
        if next == ClusterState::Terminated {
            // Off the reconciler's index of live clusters.
            changes = changes.remove(attr(schema::GSI1_PK)).remove(attr(schema::GSI1_SK));
        }
        if releasing.is_some() {
            changes = changes.remove(attr("credits_held"));
        }
        let update = changes
            .onto(self.update(key(keys::org_pk(org), keys::cluster_sk(&cluster.cluster_id))))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let mut tx = Tx::new().update(CLUSTER, built(update.build())?);
        let released = releasing.unwrap_or(crate::domain::Credits::ZERO);
        if let Some(interval) = &ended {
            tx = tx
                .put(USAGE, self.usage_put(interval)?)
                .update(CREDITS, self.consume_and_release(org, cluster.uncharged(now), released)?);
        } else if releasing.is_some() {
            tx = tx.update(CREDITS, self.consume_and_release(org, crate::domain::Credits::ZERO, released)?);
        }
        if let (Some(hold), Some(funds)) = (taking, &funds) {
            tx = tx.update(CREDITS, self.take_hold(org, funds, hold)?);
        }
        if next == ClusterState::Terminated {
            tx = tx.update(
                ACCOUNT,
                built(
                    Changes::new()
                        .less(attr(LIVE_CLUSTERS), number(1))
                        .when(attr(LIVE_CLUSTERS).gt(number(0)))
                        .onto(self.update(key(keys::org_pk(org), keys::CLOUD_ACCOUNT_SK)))
                        .build(),
                )?,
            );
        }
        let about = |event: AuditEvent| {
            event.with("cluster_id", cluster.cluster_id).with("name", String::from(cluster.name.clone()))
        };
        match requester {
            Requester::Member(member, grant) => {
                let event = AuditEvent::new(*org, member.actor(), EventAction::ClusterActionRequested, now)
                    .with("action", transition.as_str());
                tx = tx.put(EVENT, self.event_put(&about(event))?);
                tx = self.still_granted(tx, org, member, grant)?;
            }
            Requester::Service(service, action) => {
                let actor = Actor::Service { service: service.to_owned() };
                let event = AuditEvent::new(*org, actor, action, now);
                tx = tx.put(EVENT, self.event_put(&about(event))?);
            }
            Requester::Cloud => {}
        }
        if let Err(e) = self.commit("cluster transition", tx).await {
            let fresh = match &e {
                TxError::Cancelled(c) if c.failed(CLUSTER) => refused_cluster(c),
                _ => None,
            };
            if let Some(fresh) = fresh.filter(|f| f.state == cluster.state) {
                return Err(Refused::Charged(Box::new(fresh)));
            }
            return Err(Refused::Because(e.explain(|c| {
                if c.failed(CLUSTER) {
                    Some(match refused_cluster(c) {
                        Some(now_is) => now_is.state.next(transition).err().unwrap_or_else(contention),
                        None => DomainError::NotFound("cluster"),
                    })
                } else if c.failed(CREDITS) {
                    // Consumed or held since the read: whether it still fits is decided again.
                    Some(DomainError::Stale("the organization's credits"))
                } else if c.failed(ACCOUNT) {
                    Some(DomainError::Corrupt("a terminated cluster was not counted as live".into()))
                } else {
                    super::grants::lost_grant(c, "do that to clusters")
                }
            })));
        }
        let mut moved = cluster.clone();
        moved.state = next;
        moved.updated_at = now;
        if let Some(instances) = outcome.instances {
            moved.instances = instances;
        }
        if let Some((member, _)) = by {
            moved.last_actor = member.user_id.clone();
        }
        if started.is_some() {
            moved.running = started;
        }
        if ended.is_some() {
            moved.running = None;
        }
        if taking.is_some() {
            moved.credits_held = taking;
        }
        if releasing.is_some() {
            moved.credits_held = None;
        }
        moved.last_error = match outcome.error {
            Some(e) => Some(e),
            None if next == ClusterState::Error => moved.last_error,
            None => None,
        };
        Ok(moved)
    }
}

/// Who moves a cluster.
#[derive(Clone, Copy)]
enum Requester<'a> {
    /// A member's request: an audit event, and the grant as conditions.
    Member(&'a Membership, &'a Grant),
    /// The service's own decision (the scheduled job): an audit event naming the service.
    Service(&'static str, EventAction),
    /// The cloud's confirmation: the state, nothing else.
    Cloud,
}

/// Why one attempt at a transition wrote nothing.
enum Refused {
    /// Only the charge changed since the cluster was read: try again from this.
    Charged(Box<Cluster>),
    Because(DomainError),
}

impl From<DomainError> for Refused {
    fn from(e: DomainError) -> Self {
        Refused::Because(e)
    }
}

/// The cluster when the write's condition failed (ALL_OLD); `None` when it is gone.
fn refused_cluster(c: &super::plumbing::Cancelled) -> Option<Cluster> {
    c.old_item(CLUSTER).and_then(|i| from_item::<ClusterItem>(i).ok()).map(|c| c.cluster)
}

/// The cluster's state when the write's condition failed; `None` when it is gone.
fn state_when_refused(c: &super::plumbing::Cancelled) -> Option<ClusterState> {
    refused_cluster(c).map(|c| c.state)
}
