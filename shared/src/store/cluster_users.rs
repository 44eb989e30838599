//! Managed cluster users. Each cluster has a partition of its own (`CLUSTERUSERS#{id}`): one
//! record per user, the revision counter, and its enrolled nodes (see `nodes.rs`).
//!
//! What a record should be is always computed from the table as it is now (the membership read
//! fresh), never from a stream record's image, so a redelivered or replayed record finds nothing
//! to change and writes nothing. A change takes the cluster's next revision: the counter moves in
//! the same transaction as the record, on condition that it is still the value read, so revisions
//! are unique, only grow, and a record is visible no later than any record of a higher revision
//! (an agent that pulls "after N" never skips one).

use serde::{Deserialize, Serialize};

use super::Store;
use super::expr::{Changes, Cond, absent, attr, exists};
use super::items::{ClusterItem, Entity, Item, MemberItem, entity_of, from_item, to_item};
use super::keys;
use super::plumbing::{Query, Tx, built, key, number, s, stored};
use super::schema;
use crate::domain::{
    AckResult, Acknowledged, Cluster, ClusterState, ClusterUser, DomainError, Membership, OrgId, Timestamp,
    UserChanges, UserId, UserManagement, Wanted,
};

/// Clusters one transaction covers when a member's accounts change (a counter and a record each:
/// 100 actions, DynamoDB's most).
pub const CLUSTERS_PER_WRITE: usize = 50;
/// Records one transaction writes on one cluster (and its counter).
const RECORDS_PER_WRITE: usize = 99;
/// Tries when a cluster's counter moved under a write (another sync of the same cluster at the
/// same moment): each round one of the writers wins, so this bounds the writers one cluster may
/// have at once, not the members.
const ATTEMPTS: usize = 16;
/// A put that replaces whatever is there (the counter's condition guards the record).
fn any() -> Cond {
    exists().or(absent())
}

#[derive(Debug, Serialize, Deserialize)]
struct ClusterUserItem {
    pk: String,
    sk: String,
    entity: Entity,
    #[serde(flatten)]
    user: ClusterUser,
}

impl From<&ClusterUser> for ClusterUserItem {
    fn from(u: &ClusterUser) -> Self {
        Self {
            pk: keys::cluster_users_pk(&u.cluster_id),
            sk: keys::cluster_user_sk(&u.user_id),
            entity: Entity::ClusterUser,
            user: u.clone(),
        }
    }
}

fn counter_of(item: Option<&Item>) -> u64 {
    item.and_then(|i| i.get("revision")).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok()).unwrap_or(0)
}

impl Store {
    /// Brings one user's accounts on every managed live cluster of `org` in line with their
    /// membership now. Returns how many records changed.
    pub async fn sync_member(
        &self,
        org: &OrgId,
        user: &UserId,
        now: Timestamp,
    ) -> Result<usize, DomainError> {
        let (membership, clusters) =
            tokio::try_join!(self.membership(org, user), self.managed_clusters(org))?;
        if clusters.is_empty() {
            return Ok(0);
        }
        // A member's account is given (or read) before any record names it; a leaver's records
        // keep theirs.
        let (linux, keys) = match &membership {
            Some(m) => {
                let (named, ids) = ([(user, &m.email)], [user]);
                tokio::try_join!(self.linux_accounts(org, &named), self.authorized_keys(&ids))?
            }
            None => Default::default(),
        };
        let (linux, keys) = (linux.get(user), keys.get(user).map(Vec::as_slice).unwrap_or_default());
        let mut written = 0;
        for chunk in clusters.chunks(CLUSTERS_PER_WRITE) {
            written += self.sync_member_on(chunk, user, membership.as_ref(), linux, keys, now).await?;
        }
        Ok(written)
    }

    /// The organization's clusters with managed users that are not terminated.
    async fn managed_clusters(&self, org: &OrgId) -> Result<Vec<Cluster>, DomainError> {
        let items = self.query(Query::partition(keys::org_pk(org)).prefix(keys::CLUSTER_PREFIX)).await?;
        let mut clusters = Vec::new();
        for item in items {
            let cluster = from_item::<ClusterItem>(item)?.cluster;
            if cluster.user_management == UserManagement::Managed && cluster.state != ClusterState::Terminated
            {
                clusters.push(cluster);
            }
        }
        Ok(clusters)
    }

    /// One user on up to [`CLUSTERS_PER_WRITE`] clusters: one BatchGetItem (their records and the
    /// counters) and one transaction, tried again from a fresh read when a counter moved.
    async fn sync_member_on(
        &self,
        clusters: &[Cluster],
        user: &UserId,
        membership: Option<&Membership>,
        linux: Option<&crate::domain::LinuxAccount>,
        keys: &[String],
        now: Timestamp,
    ) -> Result<usize, DomainError> {
        for _ in 0..ATTEMPTS {
            let mut wanted = Vec::new();
            for cluster in clusters {
                wanted.push(key(keys::cluster_users_pk(&cluster.cluster_id), keys::cluster_user_sk(user)));
                wanted.push(key(keys::cluster_users_pk(&cluster.cluster_id), keys::REVISION_SK));
            }
            let found = self.get_many(wanted).await?;
            let mut tx = Tx::new();
            let mut changed = 0;
            for cluster in clusters {
                let pk = keys::cluster_users_pk(&cluster.cluster_id);
                let in_cluster = |sk: &str| {
                    found.iter().find(|i| {
                        i.get(schema::PK).and_then(|v| v.as_s().ok()) == Some(&pk)
                            && i.get(schema::SK).and_then(|v| v.as_s().ok()).map(String::as_str) == Some(sk)
                    })
                };
                let current = in_cluster(&keys::cluster_user_sk(user))
                    .map(|i| from_item::<ClusterUserItem>(i.clone()).map(|c| c.user))
                    .transpose()?;
                let Some(change) = Wanted::given(membership, current.as_ref(), linux, keys) else { continue };
                let revision = counter_of(in_cluster(keys::REVISION_SK));
                let record =
                    change.record(cluster.cluster_id, cluster.org_id, user.clone(), revision + 1, now);
                tx = self.advance_counter(tx, &cluster.cluster_id, revision, revision + 1)?;
                tx = tx.put("record", self.put(to_item(&ClusterUserItem::from(&record))?, any())?);
                changed += 1;
            }
            if changed == 0 {
                return Ok(0);
            }
            match self.commit("cluster users", tx).await {
                Ok(()) => return Ok(changed),
                Err(e) if e.failed("counter") && !e.any_failed_except(&["counter"]) => continue,
                Err(e) => return Err(e.explain(|_| None)),
            }
        }
        Err(DomainError::unavailable("cluster users", "a cluster's revision kept moving"))
    }

    /// Moves a cluster's counter from `from` to `to`, on condition that it is still `from`.
    fn advance_counter(
        &self,
        tx: Tx,
        cluster: &crate::domain::ClusterId,
        from: u64,
        to: u64,
    ) -> Result<Tx, DomainError> {
        let revision = attr("revision");
        let changes = Changes::new()
            .set(revision.clone(), number(to))
            .set(attr(schema::ENTITY), s(Entity::Revision.as_str()))
            .when(if from == 0 { revision.missing() } else { revision.eq(number(from)) });
        let update = changes.onto(self.update(key(keys::cluster_users_pk(cluster), keys::REVISION_SK)));
        Ok(tx.update("counter", built(update.build())?))
    }

    /// Brings every account on one cluster in line with the organization's members now (a
    /// cluster just created: every member from revision 1). Returns how many records changed.
    pub async fn sync_cluster(
        &self,
        org: &OrgId,
        cluster: &crate::domain::ClusterId,
        now: Timestamp,
    ) -> Result<usize, DomainError> {
        let Some(fresh) = self.cluster(org, cluster).await? else { return Ok(0) };
        if fresh.user_management != UserManagement::Managed || fresh.state == ClusterState::Terminated {
            return Ok(0);
        }
        let mut written = 0;
        for _ in 0..ATTEMPTS {
            let (members, partition) = tokio::try_join!(
                self.query(Query::partition(keys::org_pk(org)).prefix(keys::MEMBER_PREFIX)),
                self.query(Query::partition(keys::cluster_users_pk(cluster))),
            )?;
            let members: Vec<Membership> = members
                .into_iter()
                .map(|i| from_item::<MemberItem>(i).map(Membership::from))
                .collect::<Result<_, _>>()?;
            let named: Vec<_> = members.iter().map(|m| (&m.user_id, &m.email)).collect();
            let ids: Vec<_> = members.iter().map(|m| &m.user_id).collect();
            let (linux, keys) =
                tokio::try_join!(self.linux_accounts(org, &named), self.authorized_keys(&ids))?;
            let mut records = Vec::new();
            let mut revision = 0;
            for item in partition {
                match entity_of(&item) {
                    Some(Entity::ClusterUser) => records.push(from_item::<ClusterUserItem>(item)?.user),
                    Some(Entity::Revision) => revision = counter_of(Some(&item)),
                    _ => {}
                }
            }
            let mut changes = Vec::new();
            for m in &members {
                let current = records.iter().find(|r| r.user_id == m.user_id);
                let theirs = keys.get(&m.user_id).map(Vec::as_slice).unwrap_or_default();
                if let Some(change) = Wanted::given(Some(m), current, linux.get(&m.user_id), theirs) {
                    changes.push((m.user_id.clone(), change));
                }
            }
            for r in &records {
                if !members.iter().any(|m| m.user_id == r.user_id)
                    && let Some(change) = Wanted::given(None, Some(r), None, &[])
                {
                    changes.push((r.user_id.clone(), change));
                }
            }
            if changes.is_empty() {
                return Ok(written);
            }
            let mut moved = false;
            for chunk in changes.chunks(RECORDS_PER_WRITE) {
                let mut tx =
                    self.advance_counter(Tx::new(), cluster, revision, revision + chunk.len() as u64)?;
                for (i, (user, change)) in chunk.iter().enumerate() {
                    let record =
                        change.clone().record(*cluster, *org, user.clone(), revision + 1 + i as u64, now);
                    tx = tx.put("record", self.put(to_item(&ClusterUserItem::from(&record))?, any())?);
                }
                match self.commit("cluster users", tx).await {
                    Ok(()) => {
                        revision += chunk.len() as u64;
                        written += chunk.len();
                    }
                    Err(e) if e.failed("counter") && !e.any_failed_except(&["counter"]) => {
                        moved = true;
                        break;
                    }
                    Err(e) => return Err(e.explain(|_| None)),
                }
            }
            if !moved {
                return Ok(written);
            }
        }
        Err(DomainError::unavailable("cluster users", "a cluster's revision kept moving"))
    }

    /// Every record of a cluster, by user id.
    pub async fn cluster_users(
        &self,
        cluster: &crate::domain::ClusterId,
    ) -> Result<Vec<ClusterUser>, DomainError> {
        let items = self
            .query(Query::partition(keys::cluster_users_pk(cluster)).prefix(keys::CLUSTER_USER_PREFIX))
            .await?;
        items.into_iter().map(|i| from_item::<ClusterUserItem>(i).map(|c| c.user)).collect()
    }

    /// The records that changed after `after`, in revision order, at most `limit`; strongly
    /// consistent (see the module's note on why no change is skipped).
    pub async fn cluster_user_changes(
        &self,
        cluster: &crate::domain::ClusterId,
        after: u64,
        limit: usize,
    ) -> Result<UserChanges, DomainError> {
        let items = self.query(Query::partition(keys::cluster_users_pk(cluster))).await?;
        let mut latest = 0;
        let mut users = Vec::new();
        for item in items {
            match entity_of(&item) {
                Some(Entity::ClusterUser) => {
                    let user = from_item::<ClusterUserItem>(item)?.user;
                    if user.revision > after {
                        users.push(user);
                    }
                }
                Some(Entity::Revision) => latest = counter_of(Some(&item)),
                _ => {}
            }
        }
        users.sort_by_key(|u| u.revision);
        users.truncate(limit);
        let revision = users.last().map_or(after, |u| u.revision);
        Ok(UserChanges { users, revision, latest_revision: latest })
    }

    /// Records what the agent applied up to `revision`: each result is written on condition that
    /// the record has not changed since (a newer revision stays pending).
    pub async fn acknowledge_cluster_users(
        &self,
        cluster: &crate::domain::ClusterId,
        revision: u64,
        results: &[AckResult],
        now: Timestamp,
    ) -> Result<Acknowledged, DomainError> {
        use futures::stream::{self, StreamExt, TryStreamExt};
        // Independent conditional writes, 16 in flight: an ack of 500 records is 32 rounds of
        // latency, not 500.
        let applied: Vec<bool> = stream::iter(0..results.len())
            .map(|i| async move {
                let result = &results[i];
                let k = key(keys::cluster_users_pk(cluster), keys::cluster_user_sk(&result.user_id));
                let changes = Changes::new()
                    .set(attr("delivery"), stored(&result.status)?)
                    .set(attr("applied_at"), stored(&now)?)
                    .when(exists())
                    .when(attr("revision").le(number(revision)));
                let changes = match &result.error {
                    Some(error) => {
                        changes.set(attr("error"), s(error.chars().take(1000).collect::<String>()))
                    }
                    None => changes.remove(attr("error")),
                };
                self.update_if(k, changes).await
            })
            .buffer_unordered(16)
            .try_collect()
            .await?;
        let recorded = applied.iter().filter(|a| **a).count();
        Ok(Acknowledged { recorded, stale: applied.len() - recorded })
    }
}

/// A record as stored.
pub(super) fn record_of(item: super::items::Item) -> Result<ClusterUser, DomainError> {
    from_item::<ClusterUserItem>(item).map(|c| c.user)
}
