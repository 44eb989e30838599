//! The enrolled nodes of managed clusters: one item per instance (`NODE#{instance_id}`) in the
//! cluster's users partition, holding the hash of the node's nonce (set by its first enrollment),
//! the `pendingTime` of the document it last enrolled with, the hash of its current credential and
//! when that ends, its last heartbeat, and what it acknowledged applying. Node items carry their
//! own entity, which no stream consumer's filter passes: heartbeats never wake a consumer.

use serde::{Deserialize, Serialize};

use super::Store;
use super::expr::{Changes, absent, attr, exists};
use super::items::{ClusterItem, Entity, entity_of, from_item};
use super::keys;
use super::plumbing::{Query, Tx, built, key, number, s, stored};
use super::schema;
use crate::domain::node_identity::{IdentityDocument, Refusal};
use crate::domain::{
    AckResult, AgentReport, Cluster, ClusterId, ClusterState, ClusterUser, DomainError, Membership,
    NodeFailure, OrgId, Receipt, Timestamp, UserId,
};

/// Nodes one revocation transaction revokes (with the cluster's check, the audit event and the
/// grant's re-checks: within DynamoDB's 100 actions).
const NODES_PER_WRITE: usize = 90;

/// A node of a managed cluster, as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeItem {
    pub pk: String,
    pub sk: String,
    pub entity: Entity,
    pub org_id: OrgId,
    pub cluster_id: ClusterId,
    pub instance_id: String,
    /// Absent after a revocation: the next enrollment sets it anew.
    #[serde(default)]
    pub nonce_hash: String,
    /// The enrolling document's `pendingTime`, unix seconds: a later enrollment's may not be older.
    pub pending_unix: i64,
    /// Absent after a revocation.
    #[serde(default)]
    pub credential_hash: String,
    pub enrolled_at: Timestamp,
    pub expires_at: Timestamp,
    /// Its last heartbeat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<AgentReport>,
    /// Every record up to this revision is applied on the node, but for its `failures`.
    #[serde(default)]
    pub applied_revision: u64,
    /// The records the node could not apply: whose, at which position, and why.
    #[serde(default)]
    pub failures: Vec<StoredFailure>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFailure {
    pub user_id: UserId,
    /// The node's position when it failed: the failure is of every revision of that user's record
    /// up to here.
    pub revision: u64,
    pub error: String,
}

impl NodeItem {
    /// Whether this node applied `record`'s revision, failed it (with the error), or neither yet.
    fn outcome(&self, record: &ClusterUser) -> Option<Result<(), &str>> {
        if let Some(f) =
            self.failures.iter().find(|f| f.user_id == record.user_id && f.revision >= record.revision)
        {
            return Some(Err(f.error.as_str()));
        }
        (self.applied_revision >= record.revision).then_some(Ok(()))
    }
}

/// The receipt of each record from the cluster's nodes: its instances, enrolled or not.
pub fn with_receipts(cluster: &Cluster, nodes: &[NodeItem], records: Vec<ClusterUser>) -> Vec<ClusterUser> {
    let ours: Vec<&NodeItem> = nodes.iter().filter(|n| cluster.instances.contains(&n.instance_id)).collect();
    records
        .into_iter()
        .map(|mut record| {
            let mut receipt =
                Receipt { applied: 0, nodes: cluster.instances.len() as u32, failed: Vec::new() };
            for node in &ours {
                match node.outcome(&record) {
                    Some(Ok(())) => receipt.applied += 1,
                    Some(Err(error)) => receipt
                        .failed
                        .push(NodeFailure { instance_id: node.instance_id.clone(), error: error.to_owned() }),
                    None => {}
                }
            }
            // Both from the nodes' receipts alone: the record's own copy is the last node's word.
            record.delivery = receipt.delivery();
            record.error = receipt.failed.first().map(|f| format!("{}: {}", f.instance_id, f.error));
            record.receipt = Some(receipt);
            record
        })
        .collect()
}

/// An enrollment the control plane accepted: what the credential is bound to and when it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrollment {
    pub org_id: OrgId,
    pub cluster_id: ClusterId,
    pub instance_id: String,
    pub expires_at: Timestamp,
}

impl Store {
    /// Enrolls the instance `doc` names as a node of `cluster`, with the node's nonce and a new
    /// credential (hashes both), if the cluster lives and lists the instance, and the instance
    /// never enrolled or enrolled with this nonce and a document no newer than this one. The old
    /// credential stops working. The outer error is the store's; the inner, why the node is
    /// refused.
    pub async fn enroll_node(
        &self,
        cluster: &Cluster,
        doc: &IdentityDocument,
        nonce_hash: &str,
        credential_hash: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> Result<Result<Enrollment, Refusal>, DomainError> {
        let id = cluster.cluster_id;
        let pending = doc.pending().unix();
        let live = exists()
            .and(attr("state").ne(stored(&ClusterState::Terminated)?))
            .and(attr("instances").contains(s(doc.instance_id.as_str())));
        let live = built(
            live.onto(self.condition(key(keys::org_pk(&cluster.org_id), keys::cluster_sk(&id)))).build(),
        )?;
        let first_or_same_node = absent()
            .or(attr("nonce_hash").missing())
            .or(attr("nonce_hash").eq(s(nonce_hash)).and(attr("pending_unix").le(number(pending))));
        let node = Changes::new()
            .set(attr(schema::ENTITY), s(Entity::Node.as_str()))
            .set(attr("org_id"), stored(&cluster.org_id)?)
            .set(attr("cluster_id"), s(id.to_string()))
            .set(attr("instance_id"), s(doc.instance_id.as_str()))
            .set(attr("nonce_hash"), s(nonce_hash))
            .set(attr("pending_unix"), number(pending))
            .set(attr("credential_hash"), s(credential_hash))
            .set(attr("enrolled_at"), stored(&now)?)
            .set(attr("expires_at"), stored(&expires_at)?)
            .when(first_or_same_node);
        let node = built(
            node.onto(self.update(key(keys::cluster_users_pk(&id), keys::node_sk(&doc.instance_id))))
                .return_values_on_condition_check_failure(
                    aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .build(),
        )?;
        let tx = Tx::new().update("node", node).check("cluster", live);
        match self.commit("node enrollment", tx).await {
            Ok(()) => Ok(Ok(Enrollment {
                org_id: cluster.org_id,
                cluster_id: id,
                instance_id: doc.instance_id.clone(),
                expires_at,
            })),
            Err(super::plumbing::TxError::Cancelled(c)) if c.failed("cluster") => {
                Ok(Err(Refusal::NotThisCluster(doc.instance_id.clone())))
            }
            Err(super::plumbing::TxError::Cancelled(c)) if c.failed("node") => {
                let old = c.old_item("node").map(from_item::<NodeItem>).transpose()?;
                Ok(Err(match old {
                    Some(old) if old.nonce_hash == nonce_hash => Refusal::StaleDocument,
                    _ => Refusal::NonceMismatch,
                }))
            }
            Err(e) => Err(e.explain(|_| None)),
        }
    }

    /// A node and its cluster, in one strongly consistent round trip.
    pub async fn node_with_cluster(
        &self,
        org: &OrgId,
        cluster: &ClusterId,
        instance_id: &str,
    ) -> Result<(Option<NodeItem>, Option<Cluster>), DomainError> {
        let items = self
            .get_many(vec![
                key(keys::cluster_users_pk(cluster), keys::node_sk(instance_id)),
                key(keys::org_pk(org), keys::cluster_sk(cluster)),
            ])
            .await?;
        let (mut node, mut found) = (None, None);
        for item in items {
            match entity_of(&item) {
                Some(Entity::Node) => node = Some(from_item::<NodeItem>(item)?),
                Some(Entity::Cluster) => found = Some(from_item::<ClusterItem>(item)?.cluster),
                _ => {}
            }
        }
        Ok((node, found))
    }

    /// Every node ever enrolled on the cluster and not revoked since.
    pub async fn nodes(&self, cluster: &ClusterId) -> Result<Vec<NodeItem>, DomainError> {
        self.query(Query::partition(keys::cluster_users_pk(cluster)).prefix(keys::NODE_PREFIX))
            .await?
            .into_iter()
            .map(from_item::<NodeItem>)
            .collect()
    }

    /// Records a node's heartbeat, while its credential is the one it authenticated with.
    pub async fn record_node_heartbeat(
        &self,
        node: &NodeItem,
        report: &AgentReport,
    ) -> Result<(), DomainError> {
        let changes = Changes::new()
            .set(attr("report"), stored(report)?)
            .when(exists())
            .when(attr("credential_hash").eq(s(node.credential_hash.as_str())));
        let recorded = self
            .update_if(
                key(keys::cluster_users_pk(&node.cluster_id), keys::node_sk(&node.instance_id)),
                changes,
            )
            .await?;
        if recorded {
            Ok(())
        } else {
            Err(DomainError::Conflict("this node's credential was just replaced or revoked".into()))
        }
    }

    /// Records what a node acknowledged: its position moves to `revision` (never back), and its
    /// failures become those of this acknowledgement plus the earlier ones of users it did not
    /// mention. While its credential is the one it authenticated with.
    pub async fn record_node_ack(
        &self,
        node: &NodeItem,
        revision: u64,
        results: &[AckResult],
    ) -> Result<(), DomainError> {
        let mentioned: std::collections::HashSet<&UserId> = results.iter().map(|r| &r.user_id).collect();
        let mut failures: Vec<StoredFailure> =
            node.failures.iter().filter(|f| !mentioned.contains(&f.user_id)).cloned().collect();
        failures.extend(results.iter().filter_map(|r| {
            r.error.as_ref().map(|e| StoredFailure {
                user_id: r.user_id.clone(),
                revision,
                error: e.chars().take(500).collect(),
            })
        }));
        let changes = Changes::new()
            .set(attr("applied_revision"), number(revision.max(node.applied_revision)))
            .set(attr("failures"), stored(&failures)?)
            .when(exists())
            .when(attr("credential_hash").eq(s(node.credential_hash.as_str())));
        let key = key(keys::cluster_users_pk(&node.cluster_id), keys::node_sk(&node.instance_id));
        if self.update_if(key, changes).await? {
            Ok(())
        } else {
            Err(DomainError::Conflict("this node's credential was just replaced or revoked".into()))
        }
    }

    /// Every record of the cluster with its receipt from the cluster's nodes, in one read of the
    /// cluster's partition.
    pub async fn cluster_users_with_receipts(
        &self,
        cluster: &Cluster,
    ) -> Result<Vec<ClusterUser>, DomainError> {
        let items = self.query(Query::partition(keys::cluster_users_pk(&cluster.cluster_id))).await?;
        let (mut records, mut nodes) = (Vec::new(), Vec::new());
        for item in items {
            match entity_of(&item) {
                Some(Entity::ClusterUser) => records.push(super::cluster_users::record_of(item)?),
                Some(Entity::Node) => nodes.push(from_item::<NodeItem>(item)?),
                _ => {}
            }
        }
        Ok(with_receipts(cluster, &nodes, records))
    }

    /// Revokes every node credential of the cluster at once: each node's credential and nonce are
    /// removed (what it applied stays), so its next call is refused and it enrolls again (its
    /// document, and a nonce set anew). While the member may. Returns how many nodes were enrolled.
    pub async fn revoke_nodes(
        &self,
        member: &Membership,
        grant: &crate::domain::authz::Grant,
        cluster: &Cluster,
        now: Timestamp,
    ) -> Result<usize, DomainError> {
        let org = &cluster.org_id;
        let nodes: Vec<NodeItem> =
            self.nodes(&cluster.cluster_id).await?.into_iter().filter(|n| !n.nonce_hash.is_empty()).collect();
        let event = crate::domain::AuditEvent::new(
            *org,
            member.actor(),
            crate::domain::EventAction::NodeCredentialsRevoked,
            now,
        )
        .with("cluster_id", cluster.cluster_id)
        .with("name", String::from(cluster.name.clone()))
        .with("nodes", nodes.len() as u64);
        let mut chunks: Vec<&[NodeItem]> = nodes.chunks(NODES_PER_WRITE).collect();
        if chunks.is_empty() {
            chunks.push(&[]);
        }
        for (i, chunk) in chunks.into_iter().enumerate() {
            let cluster_key = key(keys::org_pk(org), keys::cluster_sk(&cluster.cluster_id));
            let mut tx =
                Tx::new().check("cluster", built(exists().onto(self.condition(cluster_key)).build())?);
            for node in chunk {
                let revoke =
                    Changes::new().remove(attr("credential_hash")).remove(attr("nonce_hash")).when(exists());
                tx = tx.update(
                    "node",
                    built(revoke.onto(self.update(key(node.pk.clone(), node.sk.clone()))).build())?,
                );
            }
            if i == 0 {
                tx = tx.put(super::organizations::EVENT, self.event_put(&event)?);
            }
            let tx = self.still_granted(tx, org, member, grant)?;
            self.commit("node revocation", tx).await.map_err(|e| {
                e.explain(|c| {
                    if c.failed("cluster") {
                        Some(DomainError::NotFound("cluster"))
                    } else {
                        super::grants::lost_grant(c, "manage this cluster's nodes")
                    }
                })
            })?;
        }
        Ok(nodes.len())
    }
}

/// The cluster's activity from its nodes' heartbeats: the latest heartbeat, the sessions open at
/// each node's last one (summed), and the latest activity any node saw.
pub fn combined_report(nodes: &[NodeItem]) -> Option<AgentReport> {
    let reports: Vec<&AgentReport> = nodes.iter().filter_map(|n| n.report.as_ref()).collect();
    let at = reports.iter().map(|r| r.at).max()?;
    Some(AgentReport {
        at,
        active_sessions: reports.iter().map(|r| r.active_sessions).sum(),
        last_activity_at: reports
            .iter()
            .filter_map(|r| if r.active_sessions > 0 { Some(r.at) } else { r.last_activity_at })
            .max(),
    })
}
