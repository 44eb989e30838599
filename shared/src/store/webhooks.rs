//! Webhooks: an organization's endpoints, one item (`ORG#{id}` / `WEBHOOKS`) with a map of them
//! and a version, and one item per delivery of an event to an endpoint, on the organization's
//! partition (`WEBHOOK_DELIVERY#{webhook}#{delivery_id}`).
//!
//! - The cap on endpoints is decided on the item read and written on condition that its version
//!   is still the one read, as service accounts' is.
//! - A delivery is queued by the table's ordered reader with a put that must not find it there,
//!   so a redelivered stream record never queues it twice. While it waits for an attempt it sits
//!   in GSI2 under [`keys::WEBHOOKS_DUE`], sorted by when it is due; delivered or failed, it
//!   leaves the index.
//! - An attempt first claims the delivery: a conditional write that moves its due time a lease
//!   ahead, so two overlapping runs never send it at once; the result is written on condition
//!   that the claim is still the last thing that happened to it.
//! - Deliveries age out with TTL 30 days after their event.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use serde::{Deserialize, Serialize};

use super::Store;
use super::expr::{Changes, absent, attr};
use super::items::{Entity, from_item, to_item};
use super::keys;
use super::plumbing::{Query, Tx, built, key, number, s, stored};
use super::schema;
use crate::domain::authz::Grant;
use crate::domain::webhooks::{
    Attempt, Delivery, DeliveryStatus, EventType, MAX_WEBHOOKS, RETRY_FOR, Webhook, WebhookEvent,
    WebhookSecret, WebhookUrl, backoff,
};
use crate::domain::{AuditEvent, DomainError, EventAction, Membership, OrgId, Timestamp, UserId, WebhookId};

/// Tries when the item changed between the read and the write: more than the cap, so that
/// registrations racing up to it all get an answer (made, or 409), not a 503.
const ATTEMPTS: usize = MAX_WEBHOOKS + 6;
const WEBHOOKS: &str = "webhooks";
const EVENT: &str = "event";
/// How long a claimed attempt keeps others off the delivery: longer than an attempt can take.
const LEASE: time::Duration = time::Duration::minutes(2);
/// How long delivery items are kept after their event.
const DELIVERY_RETENTION: time::Duration = time::Duration::days(30);

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct WebhooksItem {
    #[serde(default)]
    endpoints: BTreeMap<String, EndpointEntry>,
    #[serde(default)]
    version: u64,
    /// Endpoints whose oldest pending delivery failed, until its next attempt: their later
    /// deliveries wait, to keep their order. Written by the deliverer beside the version, so it
    /// never races management.
    #[serde(default)]
    blocked: BTreeMap<String, Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct EndpointEntry {
    url: WebhookUrl,
    events: Vec<EventType>,
    #[serde(default)]
    description: String,
    secret: WebhookSecret,
    created_at: Timestamp,
    created_by: UserId,
    secret_rotated_at: Timestamp,
}

impl EndpointEntry {
    fn view(&self, webhook_id: WebhookId) -> Webhook {
        Webhook {
            webhook_id,
            url: self.url.clone(),
            events: self.events.clone(),
            description: self.description.clone(),
            created_at: self.created_at,
            created_by: self.created_by.clone(),
            secret_rotated_at: self.secret_rotated_at,
        }
    }
}

/// An endpoint as a delivery needs it: where, and the secret to sign with.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub webhook_id: WebhookId,
    pub url: WebhookUrl,
    pub events: Vec<EventType>,
    pub secret: WebhookSecret,
    /// Until when its deliveries wait behind a failed one.
    pub blocked_until: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct DeliveryItem {
    pk: String,
    sk: String,
    entity: Entity,
    org_id: OrgId,
    webhook_id: WebhookId,
    delivery_id: String,
    event_id: String,
    event_type: EventType,
    /// The exact bytes every attempt sends.
    body: String,
    created_at: Timestamp,
    /// Attempts stop after this (24 hours after the event, or after a redelivery was asked for).
    retry_until: Timestamp,
    status: DeliveryStatus,
    attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_attempt_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_status_code: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_response: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    next_attempt_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi2pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi2sk: Option<String>,
    ttl: i64,
}

impl DeliveryItem {
    fn view(&self) -> Delivery {
        Delivery {
            delivery_id: self.delivery_id.clone(),
            event_id: self.event_id.clone(),
            event_type: self.event_type,
            status: self.status,
            attempts: self.attempts,
            created_at: self.created_at,
            last_attempt_at: self.last_attempt_at,
            last_status_code: self.last_status_code,
            last_error: self.last_error.clone(),
            last_response: self.last_response.clone(),
            next_attempt_at: self.next_attempt_at,
        }
    }
}

/// A delivery waiting for an attempt, as the deliverer found it.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub org: OrgId,
    pub webhook_id: WebhookId,
    pub delivery_id: String,
    pub event_id: String,
    pub body: String,
    pub attempts: u32,
    retry_until: Timestamp,
    /// The due key as read: the claim's condition.
    due_key: String,
}

/// A delivery this run holds: the claim's key is the result's condition.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub due: DueDelivery,
    leased_key: String,
}

impl Store {
    /// The organization's endpoints, oldest first.
    pub async fn webhooks(&self, org: &OrgId) -> Result<Vec<Webhook>, DomainError> {
        let item = self.webhooks_item(org).await?;
        let mut out: Vec<Webhook> = item
            .endpoints
            .iter()
            .filter_map(|(id, entry)| Some(entry.view(WebhookId::parse(id).ok()?)))
            .collect();
        out.sort_by_key(|w| (w.created_at, w.webhook_id));
        Ok(out)
    }

    /// The endpoints a delivery may go to, with their secrets: for the deliverer and the fan-out
    /// alone, never for an answer.
    pub async fn webhook_endpoints(&self, org: &OrgId) -> Result<Vec<Endpoint>, DomainError> {
        let item = self.webhooks_item(org).await?;
        let blocked = item.blocked;
        Ok(item
            .endpoints
            .into_iter()
            .filter_map(|(id, e)| {
                Some(Endpoint {
                    webhook_id: WebhookId::parse(&id).ok()?,
                    url: e.url,
                    events: e.events,
                    secret: e.secret,
                    blocked_until: blocked.get(&id).copied(),
                })
            })
            .collect())
    }

    async fn webhooks_item(&self, org: &OrgId) -> Result<WebhooksItem, DomainError> {
        match self.get(keys::org_pk(org), keys::WEBHOOKS_SK).await? {
            Some(item) => from_item(item),
            None => Ok(WebhooksItem::default()),
        }
    }

    /// Registers an endpoint, by a manager: 409 past [`MAX_WEBHOOKS`]. The secret is in the
    /// answer and, for signing, in the table; nowhere else.
    pub async fn create_webhook(
        &self,
        actor: &Membership,
        grant: &Grant,
        url: &WebhookUrl,
        events: &[EventType],
        description: &str,
        now: Timestamp,
    ) -> Result<(Webhook, WebhookSecret), DomainError> {
        let org = &actor.org_id;
        let id = WebhookId::new();
        let entry = EndpointEntry {
            url: url.clone(),
            events: events.to_vec(),
            description: description.to_owned(),
            secret: WebhookSecret::generate(),
            created_at: now,
            created_by: actor.user_id.clone(),
            secret_rotated_at: now,
        };
        self.change_webhooks(actor, grant, |item| {
            if item.endpoints.len() >= MAX_WEBHOOKS {
                return Err(DomainError::Conflict(format!(
                    "an organization has at most {MAX_WEBHOOKS} webhook endpoints: delete one first"
                )));
            }
            item.endpoints.insert(id.to_string(), entry.clone());
            Ok(AuditEvent::new(*org, actor.actor(), EventAction::WebhookCreated, now)
                .with("webhook_id", id)
                .with("url", url)
                .with("events", events.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(" ")))
        })
        .await?;
        Ok((entry.view(id), entry.secret))
    }

    /// Deletes an endpoint: nothing more is delivered to it (deliveries already queued are
    /// dropped when they come due). 404 when there is none.
    pub async fn delete_webhook(
        &self,
        actor: &Membership,
        grant: &Grant,
        id: &WebhookId,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        let org = &actor.org_id;
        self.change_webhooks(actor, grant, |item| {
            let gone = item.endpoints.remove(&id.to_string()).ok_or(DomainError::NotFound("webhook"))?;
            Ok(AuditEvent::new(*org, actor.actor(), EventAction::WebhookDeleted, now)
                .with("webhook_id", id)
                .with("url", &gone.url))
        })
        .await
    }

    /// Gives an endpoint a new secret; the old one signs nothing from now on, retries included.
    pub async fn rotate_webhook_secret(
        &self,
        actor: &Membership,
        grant: &Grant,
        id: &WebhookId,
        now: Timestamp,
    ) -> Result<(Webhook, WebhookSecret), DomainError> {
        let org = &actor.org_id;
        let secret = WebhookSecret::generate();
        self.change_webhooks(actor, grant, |item| {
            let entry = item.endpoints.get_mut(&id.to_string()).ok_or(DomainError::NotFound("webhook"))?;
            entry.secret = secret.clone();
            entry.secret_rotated_at = now;
            Ok(AuditEvent::new(*org, actor.actor(), EventAction::WebhookSecretRotated, now)
                .with("webhook_id", id))
        })
        .await?;
        let endpoint = self
            .webhooks(org)
            .await?
            .into_iter()
            .find(|w| w.webhook_id == *id)
            .ok_or(DomainError::NotFound("webhook"))?;
        Ok((endpoint, secret))
    }

    /// Reads the item, changes a copy, and writes it whole with the audit event and the actor's
    /// grant, on condition that the version is the one read.
    async fn change_webhooks(
        &self,
        actor: &Membership,
        grant: &Grant,
        change: impl Fn(&mut WebhooksItem) -> Result<AuditEvent, DomainError>,
    ) -> Result<(), DomainError> {
        let org = &actor.org_id;
        for _ in 0..ATTEMPTS {
            let read = self.get(keys::org_pk(org), keys::WEBHOOKS_SK).await?;
            let exists = read.is_some();
            let before: WebhooksItem = read.map(from_item).transpose()?.unwrap_or_default();
            let mut after = before.clone();
            let event = change(&mut after)?;
            let version = attr("version");
            let mut changes = Changes::new()
                .set(attr(schema::ENTITY), s(Entity::Webhooks.as_str()))
                .set(attr("org_id"), s(org.to_string()))
                .set(attr("endpoints"), stored(&after.endpoints)?)
                .set(version.clone(), number(before.version + 1));
            changes = if exists {
                changes.when(version.eq(number(before.version)))
            } else {
                changes.set(attr("blocked"), stored(&after.blocked)?).when(absent())
            };
            let update = built(
                changes
                    .onto(self.update(key(keys::org_pk(org), keys::WEBHOOKS_SK)))
                    .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                    .build(),
            )?;
            let tx = Tx::new().update(WEBHOOKS, update).put(EVENT, self.event_put(&event)?);
            let tx = self.still_granted(tx, org, actor, grant)?;
            match self.commit("webhooks", tx).await {
                Ok(()) => return Ok(()),
                Err(e) if e.failed(WEBHOOKS) && !e.any_failed_except(&[WEBHOOKS]) => continue,
                Err(e) => return Err(e.explain(|c| super::grants::lost_grant(c, "manage webhooks"))),
            }
        }
        Err(DomainError::unavailable("webhooks", "they kept changing"))
    }

    /// Queues `event` for every endpoint of its organization that asked for its type; how many
    /// were queued now (a redelivered stream record finds them there and queues none). One read
    /// when the organization has no endpoint.
    pub async fn queue_webhook_event(&self, event: &WebhookEvent) -> Result<usize, DomainError> {
        let endpoints = self.webhook_endpoints(&event.org).await?;
        let body = serde_json::to_string(&event.payload())
            .map_err(|e| DomainError::Corrupt(format!("cannot encode a webhook payload: {e}")))?;
        let mut queued = 0;
        for endpoint in endpoints.iter().filter(|e| e.events.contains(&event.event_type)) {
            let due = event.occurred_at;
            let item = DeliveryItem {
                pk: keys::org_pk(&event.org),
                sk: keys::webhook_delivery_sk(&endpoint.webhook_id, &event.delivery_id),
                entity: Entity::WebhookDelivery,
                org_id: event.org,
                webhook_id: endpoint.webhook_id,
                delivery_id: event.delivery_id.clone(),
                event_id: event.event_id.clone(),
                event_type: event.event_type,
                body: body.clone(),
                created_at: event.occurred_at,
                retry_until: event.occurred_at.plus(RETRY_FOR),
                status: DeliveryStatus::Pending,
                attempts: 0,
                last_attempt_at: None,
                last_status_code: None,
                last_error: None,
                last_response: None,
                next_attempt_at: Some(due),
                gsi2pk: Some(keys::WEBHOOKS_DUE.to_owned()),
                gsi2sk: Some(keys::webhook_due_sk(due, &event.org, &endpoint.webhook_id, &event.delivery_id)),
                ttl: event.occurred_at.plus(DELIVERY_RETENTION).unix(),
            };
            if self.put_new(to_item(&item)?).await? {
                queued += 1;
            }
        }
        Ok(queued)
    }

    /// Deliveries due by `now`, at most `limit`, the longest due first.
    pub async fn due_webhook_deliveries(
        &self,
        now: Timestamp,
        limit: i32,
    ) -> Result<Vec<DueDelivery>, DomainError> {
        let query = Query::gsi2(keys::WEBHOOKS_DUE.to_owned()).before(keys::webhook_due_bound(now));
        let (items, _) = self.page(query, limit, None).await?;
        items
            .into_iter()
            .map(|item| {
                let d: DeliveryItem = from_item(item)?;
                Ok(DueDelivery {
                    org: d.org_id,
                    webhook_id: d.webhook_id,
                    delivery_id: d.delivery_id,
                    event_id: d.event_id,
                    body: d.body,
                    attempts: d.attempts,
                    retry_until: d.retry_until,
                    due_key: d.gsi2sk.unwrap_or_default(),
                })
            })
            .collect()
    }

    /// Claims a due delivery for one attempt: `None` when another run claimed it first, it was
    /// answered meanwhile, or the index showed it stale.
    pub async fn claim_webhook_delivery(
        &self,
        due: &DueDelivery,
        now: Timestamp,
    ) -> Result<Option<Claimed>, DomainError> {
        let leased_key = keys::webhook_due_sk(now.plus(LEASE), &due.org, &due.webhook_id, &due.delivery_id);
        let changes = Changes::new()
            .set(attr(schema::GSI2_SK), s(leased_key.clone()))
            .set(attr("attempts"), number(due.attempts + 1))
            .set(attr("last_attempt_at"), stored(&now)?)
            .when(attr(schema::GSI2_SK).eq(s(due.due_key.clone())))
            .when(attr("status").eq(stored(&DeliveryStatus::Pending)?));
        let claimed =
            self.update_if(self.delivery_key(&due.org, &due.webhook_id, &due.delivery_id), changes).await?;
        Ok(claimed
            .then(|| Claimed { due: DueDelivery { attempts: due.attempts + 1, ..due.clone() }, leased_key }))
    }

    /// Writes what an attempt came to: delivered; or failed, due again after [`backoff`]; or,
    /// past its retry window, failed for good. Whether the result was written (not when a
    /// redelivery was asked for meanwhile: that one stands).
    pub async fn record_webhook_attempt(
        &self,
        claimed: &Claimed,
        attempt: &Attempt,
        now: Timestamp,
    ) -> Result<DeliveryStatus, DomainError> {
        let due = &claimed.due;
        let next = now.plus(backoff(due.attempts));
        let status = if attempt.succeeded() {
            DeliveryStatus::Delivered
        } else if next <= due.retry_until {
            DeliveryStatus::Pending
        } else {
            DeliveryStatus::Failed
        };
        let mut changes = Changes::new()
            .set(attr("status"), stored(&status)?)
            .when(attr(schema::GSI2_SK).eq(s(claimed.leased_key.clone())));
        changes = match attempt.status_code {
            Some(code) => changes.set(attr("last_status_code"), number(code)),
            None => changes.remove(attr("last_status_code")),
        };
        changes = match &attempt.error {
            Some(error) => changes.set(attr("last_error"), s(error.clone())),
            None => changes.remove(attr("last_error")),
        };
        changes = match &attempt.response {
            Some(response) => changes.set(attr("last_response"), s(response.clone())),
            None => changes.remove(attr("last_response")),
        };
        changes = if status == DeliveryStatus::Pending {
            changes.set(attr("next_attempt_at"), stored(&next)?).set(
                attr(schema::GSI2_SK),
                s(keys::webhook_due_sk(next, &due.org, &due.webhook_id, &due.delivery_id)),
            )
        } else {
            changes
                .remove(attr("next_attempt_at"))
                .remove(attr(schema::GSI2_PK))
                .remove(attr(schema::GSI2_SK))
        };
        self.update_if(self.delivery_key(&due.org, &due.webhook_id, &due.delivery_id), changes).await?;
        Ok(status)
    }

    /// Holds an endpoint's deliveries until `until` (its failed oldest one's next attempt), or
    /// lets them go (`None`). Beside the version: never races management.
    pub async fn block_webhook(
        &self,
        org: &OrgId,
        webhook: &WebhookId,
        until: Option<Timestamp>,
    ) -> Result<(), DomainError> {
        let entry = attr("blocked").entry(webhook.to_string());
        let changes = match until {
            Some(until) => Changes::new().set(entry, stored(&until)?),
            None => Changes::new().remove(entry),
        };
        let there = attr("endpoints").entry(webhook.to_string()).exists();
        // A lost condition: the endpoint was deleted meanwhile, and nothing is left to hold.
        self.update_if(key(keys::org_pk(org), keys::WEBHOOKS_SK), changes.when(there)).await?;
        Ok(())
    }

    /// Drops a due delivery whose endpoint is gone: it leaves the index, marked failed.
    pub async fn drop_webhook_delivery(&self, due: &DueDelivery, why: &str) -> Result<(), DomainError> {
        let changes = Changes::new()
            .set(attr("status"), stored(&DeliveryStatus::Failed)?)
            .set(attr("last_error"), s(why.to_owned()))
            .remove(attr("next_attempt_at"))
            .remove(attr(schema::GSI2_PK))
            .remove(attr(schema::GSI2_SK))
            .when(attr(schema::GSI2_SK).eq(s(due.due_key.clone())));
        self.update_if(self.delivery_key(&due.org, &due.webhook_id, &due.delivery_id), changes).await?;
        Ok(())
    }

    /// An endpoint's deliveries, newest first, at most `limit`.
    pub async fn webhook_deliveries(
        &self,
        org: &OrgId,
        webhook: &WebhookId,
        limit: i32,
    ) -> Result<Vec<Delivery>, DomainError> {
        let query = Query::partition(keys::org_pk(org))
            .prefix(format!("{}{webhook}#", keys::WEBHOOK_DELIVERY_PREFIX))
            .newest_first();
        let (items, _) = self.page(query, limit, None).await?;
        items.into_iter().map(|item| Ok(from_item::<DeliveryItem>(item)?.view())).collect()
    }

    /// Asks for a delivery again, by a manager: due now, with a fresh 24-hour window, whatever
    /// it came to before. 404 without the endpoint or the delivery.
    pub async fn redeliver_webhook(
        &self,
        actor: &Membership,
        grant: &Grant,
        webhook: &WebhookId,
        delivery_id: &str,
        now: Timestamp,
    ) -> Result<Delivery, DomainError> {
        let org = &actor.org_id;
        let item = self
            .get(keys::org_pk(org), keys::webhook_delivery_sk(webhook, delivery_id))
            .await?
            .ok_or(DomainError::NotFound("delivery"))?;
        let before: DeliveryItem = from_item(item)?;
        let changes = Changes::new()
            .set(attr("status"), stored(&DeliveryStatus::Pending)?)
            .set(attr("retry_until"), stored(&now.plus(RETRY_FOR))?)
            .set(attr("next_attempt_at"), stored(&now)?)
            .set(attr(schema::GSI2_PK), s(keys::WEBHOOKS_DUE))
            .set(attr(schema::GSI2_SK), s(keys::webhook_due_sk(now, org, webhook, delivery_id)))
            .when(super::expr::exists());
        let update = built(changes.onto(self.update(self.delivery_key(org, webhook, delivery_id))).build())?;
        // The endpoint must still be there when the write lands.
        let endpoint = attr("endpoints").entry(webhook.to_string()).exists();
        let endpoint_there =
            built(endpoint.onto(self.condition(key(keys::org_pk(org), keys::WEBHOOKS_SK))).build())?;
        let event = AuditEvent::new(*org, actor.actor(), EventAction::WebhookRedelivered, now)
            .with("webhook_id", webhook)
            .with("delivery_id", delivery_id);
        let tx = Tx::new()
            .update("delivery", update)
            .check(WEBHOOKS, endpoint_there)
            .put(EVENT, self.event_put(&event)?);
        let tx = self.still_granted(tx, org, actor, grant)?;
        self.commit("redelivery", tx).await.map_err(|e| {
            e.explain(|c| {
                if c.failed(WEBHOOKS) {
                    return Some(DomainError::NotFound("webhook"));
                }
                if c.failed("delivery") {
                    return Some(DomainError::NotFound("delivery"));
                }
                super::grants::lost_grant(c, "manage webhooks")
            })
        })?;
        Ok(Delivery { status: DeliveryStatus::Pending, next_attempt_at: Some(now), ..before.view() })
    }

    fn delivery_key(&self, org: &OrgId, webhook: &WebhookId, delivery_id: &str) -> super::items::Item {
        key(keys::org_pk(org), keys::webhook_delivery_sk(webhook, delivery_id))
    }
}
