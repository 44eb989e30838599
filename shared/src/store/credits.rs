//! Credits and usage. An organization's credits are one item (`granted`, `consumed`, in
//! thousandths) that every write which spends or grants adds to, so that "has credits left" is
//! one condition, `granted > consumed`, on the writes that would spend more (create, start).
//!
//! A cluster is charged while it runs: the scheduled job adds what each running cluster cost
//! since its last charge, and the cloud's confirmation that it stopped adds the rest and records
//! the interval. Consumed credits therefore trail the truth by at most the job's period.

use aws_sdk_dynamodb::types::{AttributeValue, Update};

use super::Store;
use super::expr::{Changes, absent, attr, exists};
use super::items::Item;
use super::items::{Entity, UsageItem, from_item, to_item};
use super::keys;
use super::organizations::EVENT;
use super::plumbing::{Query, Tx, built, key, s, stored};
use super::schema;
use crate::domain::{
    Actor, AuditEvent, Balance, Cluster, Credits, DomainError, EventAction, OrgId, Timestamp, UsageInterval,
    Window,
};

pub(super) const CREDITS: &str = "credits";
const CLUSTER: &str = "cluster";

/// The balance of an organization's credits item (none yet: nothing granted or consumed).
fn balance_of(item: Option<&Item>) -> Balance {
    let funds = Funds::of(item);
    Balance { granted: funds.granted, consumed: funds.consumed, balance: funds.balance() }
}

/// An organization's credits item as a creation or start reads it: granted, consumed, and held
/// for its clusters' next charging period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Funds {
    pub granted: Credits,
    pub consumed: Credits,
    pub held: Credits,
}

impl Funds {
    fn of(item: Option<&Item>) -> Self {
        let number = |name: &str| {
            Credits::from_millis(
                item.and_then(|i| i.get(name))
                    .and_then(|v| v.as_n().ok())
                    .and_then(|n| n.parse::<i64>().ok())
                    .unwrap_or(0),
            )
        };
        Self { granted: number("granted"), consumed: number("consumed"), held: number("held") }
    }

    pub fn balance(&self) -> Credits {
        self.granted - self.consumed
    }

    /// What a new hold may take.
    pub fn available(&self) -> Credits {
        self.granted - self.consumed - self.held
    }
}

fn millis(c: Credits) -> AttributeValue {
    AttributeValue::N(c.millis().to_string())
}

impl Store {
    /// The writes that give a new organization its credits: the credits item with `trial`
    /// granted, and (when there is a trial) its audit event.
    pub(super) fn new_credits(
        &self,
        tx: Tx,
        org: &OrgId,
        trial: Credits,
        now: Timestamp,
    ) -> Result<Tx, DomainError> {
        let mut item = key(keys::org_pk(org), keys::CREDITS_SK);
        item.insert("entity".into(), s(Entity::Credits.as_str()));
        item.insert("granted".into(), millis(trial));
        item.insert("consumed".into(), millis(Credits::ZERO));
        let tx = tx.put(CREDITS, self.put(item, absent())?);
        if trial == Credits::ZERO {
            return Ok(tx);
        }
        let event = AuditEvent::new(
            *org,
            Actor::Service { service: "trial".into() },
            EventAction::CreditsGranted,
            now,
        )
        .with("credits", trial)
        .with("reason", "trial");
        Ok(tx.put(EVENT, self.event_put(&event)?))
    }

    /// The organization's credits with what its clusters hold, strongly consistent: what a
    /// creation or start reads before it takes a hold.
    pub async fn funds(&self, org: &OrgId) -> Result<Funds, DomainError> {
        Ok(Funds::of(self.get(keys::org_pk(org), keys::CREDITS_SK).await?.as_ref()))
    }

    /// Sets `hold` aside for a cluster, refused as 402 when the credits free (granted, less
    /// consumed, less held) do not cover it. The condition is that nothing was consumed or held
    /// since `read` (a grant may have come in): then what is free now is at least what was free
    /// then, so parallel creations and starts never together hold more than the balance. One
    /// that lost such a race reads again ([`crate::domain::DomainError::Stale`]).
    pub(super) fn take_hold(&self, org: &OrgId, read: &Funds, hold: Credits) -> Result<Update, DomainError> {
        if read.available() < hold {
            return Err(DomainError::CreditsShort {
                balance: read.balance(),
                available: read.available().max(Credits::ZERO),
                needed: hold,
            });
        }
        let held = attr("held");
        let changes = Changes::new().add(held.clone(), millis(hold)).when(
            attr("granted")
                .ge(millis(read.granted))
                .and(attr("consumed").le(millis(read.consumed)))
                .and(held.missing().or(held.le(millis(read.held)))),
        );
        built(changes.onto(self.update(key(keys::org_pk(org), keys::CREDITS_SK))).build())
    }

    /// Adds `amount` to what the organization has consumed (created when missing, so that a
    /// charge is never refused: the cloud already ran the cluster).
    pub(super) fn consume(&self, org: &OrgId, amount: Credits) -> Result<Update, DomainError> {
        self.consume_and_release(org, amount, Credits::ZERO)
    }

    /// [`Store::consume`], and gives back `released` of what the organization's clusters hold
    /// (one write to the credits item, as a transaction may hold one action per item).
    pub(super) fn consume_and_release(
        &self,
        org: &OrgId,
        amount: Credits,
        released: Credits,
    ) -> Result<Update, DomainError> {
        let mut changes = Changes::new()
            .set(attr(schema::ENTITY), s(Entity::Credits.as_str()))
            .add(attr("consumed"), millis(amount));
        if released != Credits::ZERO {
            changes = changes.add(attr("held"), millis(Credits::ZERO - released));
        }
        built(changes.onto(self.update(key(keys::org_pk(org), keys::CREDITS_SK))).build())
    }

    /// The organization's credits, strongly consistent. An organization without the item (none
    /// is created without one) has none.
    pub async fn balance(&self, org: &OrgId) -> Result<Balance, DomainError> {
        Ok(balance_of(self.get(keys::org_pk(org), keys::CREDITS_SK).await?.as_ref()))
    }

    /// The organization, who reads it (a member, or a key: [`super::Reader`]) and the
    /// organization's credits, in one strongly consistent round trip; 404 unless the reader is a
    /// member, 401 for a key not in force.
    pub async fn organization_with_credits(
        &self,
        org: &OrgId,
        reader: super::Reader<'_>,
    ) -> Result<(crate::domain::Organization, crate::domain::Membership, Balance), DomainError> {
        let wanted = vec![
            key(keys::org_pk(org), keys::ORG_SK),
            reader.item(org),
            key(keys::org_pk(org), keys::CREDITS_SK),
        ];
        let items = self.get_many(wanted).await?;
        let (mut organization, mut credits) = (None, None);
        for item in &items {
            match super::items::entity_of(item) {
                Some(Entity::Org) => {
                    organization = Some(crate::domain::Organization::from(
                        from_item::<super::items::OrgItem>(item.clone())?,
                    ));
                }
                Some(Entity::Credits) => credits = Some(item.clone()),
                _ => {}
            }
        }
        let membership = reader.acting(organization.as_ref(), &items)?;
        let organization = organization.ok_or(DomainError::NotFound("organization"))?;
        Ok((organization, membership, balance_of(credits.as_ref())))
    }

    /// An operator's grant: adds `amount`, with an audit event naming the operator and reason.
    /// 404 for an organization that does not exist.
    pub async fn grant_credits(
        &self,
        org: &OrgId,
        amount: Credits,
        operator: &str,
        reason: &str,
        now: Timestamp,
    ) -> Result<Balance, DomainError> {
        let grant = Changes::new()
            .set(attr(schema::ENTITY), s(Entity::Credits.as_str()))
            .add(attr("granted"), millis(amount))
            .when(exists());
        let grant = built(grant.onto(self.update(key(keys::org_pk(org), keys::CREDITS_SK))).build())?;
        let org_exists = built(exists().onto(self.condition(key(keys::org_pk(org), keys::ORG_SK))).build())?;
        let event = AuditEvent::new(
            *org,
            Actor::Service { service: "operator".into() },
            EventAction::CreditsGranted,
            now,
        )
        .with("credits", amount)
        .with("operator", operator)
        .with("reason", reason);
        let tx = Tx::new()
            .update(CREDITS, grant)
            .check("organization", org_exists)
            .put(EVENT, self.event_put(&event)?);
        self.commit("credit grant", tx).await.map_err(|e| {
            e.explain(|c| {
                (c.failed(CREDITS) || c.failed("organization"))
                    .then_some(DomainError::NotFound("organization"))
            })
        })?;
        self.balance(org).await
    }

    /// Charges a running cluster for its running since the last charge, on condition that the
    /// last charge is the one read (a concurrent charge or stop wins, and this one is dropped).
    /// Returns what was charged.
    pub async fn charge(&self, cluster: &Cluster, now: Timestamp) -> Result<Credits, DomainError> {
        let Some(running) = &cluster.running else { return Ok(Credits::ZERO) };
        let amount = cluster.uncharged(now);
        if amount == Credits::ZERO {
            return Ok(Credits::ZERO);
        }
        let charged_until = attr("running").dot("charged_until");
        let mark = Changes::new().set(charged_until.clone(), stored(&now)?).when(
            charged_until
                .eq(stored(&running.charged_until)?)
                .and(attr("running").dot("since").eq(stored(&running.since)?)),
        );
        let mark = built(
            mark.onto(self.update(key(keys::org_pk(&cluster.org_id), keys::cluster_sk(&cluster.cluster_id))))
                .build(),
        )?;
        let tx = Tx::new().update(CLUSTER, mark).update(CREDITS, self.consume(&cluster.org_id, amount)?);
        match self.commit("cluster charge", tx).await {
            Ok(()) => Ok(amount),
            Err(e) if e.failed(CLUSTER) => Ok(Credits::ZERO),
            Err(e) => Err(e.explain(|_| None)),
        }
    }

    /// The put that records an interval that ended.
    pub(super) fn usage_put(
        &self,
        interval: &UsageInterval,
    ) -> Result<aws_sdk_dynamodb::types::Put, DomainError> {
        self.put(to_item(&UsageItem::from(interval))?, absent())
    }

    /// Every interval that overlaps `window`: those recorded, and those of clusters running now
    /// (ending at `now`). Two concurrent queries.
    pub async fn usage(
        &self,
        org: &OrgId,
        window: &Window,
        now: Timestamp,
    ) -> Result<Vec<UsageInterval>, DomainError> {
        let ended = Query::partition(keys::usage_pk(org)).from(window.from.to_string());
        let clusters = Query::partition(keys::org_pk(org)).prefix(keys::CLUSTER_PREFIX);
        let (ended, clusters) = tokio::try_join!(self.query(ended), self.query(clusters))?;
        let mut intervals = Vec::new();
        for item in ended {
            let interval = from_item::<UsageItem>(item)?.interval;
            if interval.from < window.to {
                intervals.push(interval);
            }
        }
        for item in clusters {
            let cluster = from_item::<super::items::ClusterItem>(item)?.cluster;
            if let Some(interval) = cluster.usage_ended(crate::domain::ClusterState::Stopped, now)
                && interval.from < window.to
            {
                intervals.push(interval);
            }
        }
        Ok(intervals)
    }
}
