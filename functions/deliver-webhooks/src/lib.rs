//! `deliver-webhooks`: sends the deliveries that are due (first attempts and retries), every
//! minute. The table's ordered reader queues them; this function alone talks to receivers, so
//! that a slow or broken receiver never holds back the stream.
//!
//! Each attempt:
//! - claims the delivery first (a conditional write), so overlapping runs never send it twice at
//!   once;
//! - resolves the endpoint's host and refuses unless every address is one deliveries may reach
//!   (public only, deployed), then connects to the address it checked, so a name that changes
//!   between the check and the connection cannot send it elsewhere;
//! - follows no redirect, gives up after 10 seconds, keeps at most 1 kB of the answer;
//! - signs `"{timestamp}.{body}"` with the endpoint's current secret.
//!
//! An endpoint's deliveries go in the order of their events; after one fails, the endpoint's
//! later ones wait for the next run (they keep their order, and a receiver that is down is not
//! hammered).

use std::collections::BTreeMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use lambda_runtime::{Error, LambdaEvent};
use orgs::clock::{Clock, SystemClock};
use orgs::domain::webhooks::{Attempt, DELIVERY_TIMEOUT, DeliveryStatus, KEPT_RESPONSE_BYTES, Targets, kept};
use orgs::domain::{DomainError, OrgId, Timestamp, WebhookId};
use orgs::store::{DueDelivery, Endpoint, Store};
use serde::Serialize;

/// Deliveries one run picks up; the rest wait for the next minute.
const PER_RUN: i32 = 200;
/// Endpoints sent to at once.
const CONCURRENCY: usize = 8;
/// How long a name may take to resolve.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(3);

/// Answers which addresses a host name has. A test stands in one that answers what it is told
/// (a name that resolves to 10.x); deployed, the system's resolver.
pub trait Resolve: Send + Sync {
    fn resolve<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>> + Send + 'a>>;
}

/// The system's resolver (getaddrinfo, on a blocking thread).
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> Pin<Box<dyn Future<Output = std::io::Result<Vec<SocketAddr>>> + Send + 'a>> {
        Box::pin(async move { Ok(tokio::net::lookup_host((host, port)).await?.collect()) })
    }
}

pub struct Deliverer {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub resolver: Arc<dyn Resolve>,
    /// Which addresses deliveries may reach: public only, but on the test stack.
    pub targets: Targets,
}

impl Deliverer {
    pub fn from_env() -> Result<Self, orgs::config::ConfigError> {
        Ok(Self {
            store: orgs::app::store_from_env()?,
            clock: Arc::new(SystemClock),
            resolver: Arc::new(SystemResolver),
            targets: Targets::PublicOnly,
        })
    }

    fn now(&self) -> Timestamp {
        Timestamp::from_datetime(self.clock.now())
    }
}

/// What one run did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub delivered: usize,
    /// Attempts that failed and will be tried again.
    pub retrying: usize,
    /// Deliveries that failed for good this run (their 24 hours ran out).
    pub failed: usize,
    /// Deliveries whose endpoint was deleted.
    pub dropped: usize,
    /// Deliveries left for the next run: another run held them, or an earlier one of their
    /// endpoint failed.
    pub deferred: usize,
}

impl Report {
    fn add(&mut self, other: &Report) {
        self.delivered += other.delivered;
        self.retrying += other.retrying;
        self.failed += other.failed;
        self.dropped += other.dropped;
        self.deferred += other.deferred;
    }
}

pub async fn handle(d: &Deliverer, _event: LambdaEvent<serde_json::Value>) -> Result<Report, Error> {
    let report = deliver(d).await?;
    tracing::info!(?report, "webhook deliveries done");
    Ok(report)
}

/// One run: every due delivery, endpoint by endpoint, each endpoint's in order.
pub async fn deliver(d: &Deliverer) -> Result<Report, DomainError> {
    let due = d.store.due_webhook_deliveries(d.now(), PER_RUN).await?;
    let mut by_endpoint: BTreeMap<(OrgId, WebhookId), Vec<DueDelivery>> = BTreeMap::new();
    for delivery in due {
        by_endpoint.entry((delivery.org, delivery.webhook_id)).or_default().push(delivery);
    }
    let mut report = Report::default();
    let mut runs = futures::stream::iter(by_endpoint.into_iter().map(|((org, webhook), mut deliveries)| {
        deliveries.sort_by(|a, b| a.delivery_id.cmp(&b.delivery_id));
        async move { endpoint_run(d, org, webhook, deliveries).await }
    }))
    .buffer_unordered(CONCURRENCY);
    while let Some(run) = runs.next().await {
        report.add(&run?);
    }
    Ok(report)
}

async fn endpoint_run(
    d: &Deliverer,
    org: OrgId,
    webhook: WebhookId,
    deliveries: Vec<DueDelivery>,
) -> Result<Report, DomainError> {
    let mut report = Report::default();
    let endpoint = d.store.webhook_endpoints(&org).await?.into_iter().find(|e| e.webhook_id == webhook);
    let Some(endpoint) = endpoint else {
        for delivery in &deliveries {
            d.store.drop_webhook_delivery(delivery, "the endpoint was deleted").await?;
            report.dropped += 1;
        }
        return Ok(report);
    };
    let total = deliveries.len();
    // An earlier delivery failed and waits for its next attempt: these wait behind it.
    if endpoint.blocked_until.is_some_and(|until| until > d.now()) {
        report.deferred += total;
        return Ok(report);
    }
    let mut blocked = endpoint.blocked_until.is_some();
    for (i, delivery) in deliveries.into_iter().enumerate() {
        let Some(claimed) = d.store.claim_webhook_delivery(&delivery, d.now()).await? else {
            // Another run holds it: the rest go after it, in that run or the next.
            report.deferred += total - i;
            break;
        };
        let attempt = send(d, &endpoint, &claimed.due).await;
        if !attempt.succeeded() {
            tracing::warn!(
                %org, %webhook, delivery = %claimed.due.delivery_id, status = ?attempt.status_code,
                error = ?attempt.error, "a webhook delivery failed"
            );
        }
        let now = d.now();
        let status = d.store.record_webhook_attempt(&claimed, &attempt, now).await?;
        match status {
            DeliveryStatus::Delivered => report.delivered += 1,
            DeliveryStatus::Pending => report.retrying += 1,
            DeliveryStatus::Failed => report.failed += 1,
        }
        if status == DeliveryStatus::Pending {
            // The endpoint's later deliveries wait until this one's next attempt.
            let next = now.plus(orgs::domain::webhooks::backoff(claimed.due.attempts));
            d.store.block_webhook(&org, &webhook, Some(next)).await?;
        } else if blocked {
            // Delivered, or given up on: the ones after it may go.
            d.store.block_webhook(&org, &webhook, None).await?;
            blocked = false;
        }
        if !attempt.succeeded() {
            // The receiver is failing: the rest wait for the next run rather than hammer it.
            report.deferred += total - i - 1;
            break;
        }
    }
    Ok(report)
}

/// One attempt at one delivery.
pub async fn send(d: &Deliverer, endpoint: &Endpoint, delivery: &DueDelivery) -> Attempt {
    let refused = |error: String| Attempt { status_code: None, error: Some(error), response: None };
    let (host, port) = (endpoint.url.host(), endpoint.url.port());
    let address = match checked_address(d, &host, port).await {
        Ok(address) => address,
        Err(why) => return refused(why),
    };
    let client = match reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(DELIVERY_TIMEOUT)
        .no_proxy()
        .resolve(&host, address)
        .build()
    {
        Ok(client) => client,
        Err(e) => return refused(format!("the HTTP client could not be built: {e}")),
    };
    let timestamp = d.now().unix();
    let signature = endpoint.secret.sign(timestamp, delivery.body.as_bytes());
    let sent = client
        .post(endpoint.url.as_str())
        .header("content-type", "application/json")
        .header("user-agent", "orgs-webhooks/1")
        .header("orgs-event-id", &delivery.event_id)
        .header("orgs-delivery-id", &delivery.delivery_id)
        .header("orgs-delivery-attempt", delivery.attempts.to_string())
        .header("orgs-timestamp", timestamp.to_string())
        .header("orgs-signature", signature)
        .body(delivery.body.clone())
        .send()
        .await;
    let mut response = match sent {
        Ok(response) => response,
        Err(e) if e.is_timeout() => {
            return refused(format!("no answer within {} s", DELIVERY_TIMEOUT.as_secs()));
        }
        Err(e) if e.is_connect() => return refused(format!("could not connect to {host}:{port}")),
        Err(_) => return refused("the request failed".into()),
    };
    let status = response.status().as_u16();
    // At most 1 kB of the answer is read, and kept.
    let mut body = Vec::new();
    while body.len() < KEPT_RESPONSE_BYTES {
        match tokio::time::timeout(DELIVERY_TIMEOUT, response.chunk()).await {
            Ok(Ok(Some(chunk))) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    let text = kept(&String::from_utf8_lossy(&body));
    Attempt { status_code: Some(status), error: None, response: (!text.is_empty()).then_some(text) }
}

/// The address to connect to for `host`: the literal itself, or the first of the name's
/// addresses, when every one of them is one deliveries may reach.
async fn checked_address(d: &Deliverer, host: &str, port: u16) -> Result<SocketAddr, String> {
    let addresses: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => match tokio::time::timeout(RESOLVE_TIMEOUT, d.resolver.resolve(host, port)).await {
            Ok(Ok(found)) => found,
            Ok(Err(e)) => return Err(format!("{host} did not resolve: {e}")),
            Err(_) => return Err(format!("{host} did not resolve within {} s", RESOLVE_TIMEOUT.as_secs())),
        },
    };
    if let Some(bad) = addresses.iter().find(|a| !d.targets.allows(a.ip())) {
        return Err(format!(
            "refused: {host} resolves to {}, which is not a public address (loopback, private, link-local and metadata addresses are never delivered to)",
            bad.ip()
        ));
    }
    addresses.first().copied().ok_or_else(|| format!("{host} has no address"))
}
