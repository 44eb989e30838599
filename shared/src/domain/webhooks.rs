//! Webhooks: endpoints an organization's owners and admins register to hear about membership and
//! cluster changes without polling, and the rules their deliveries keep.
//!
//! - An endpoint is an `https` URL with the event types it wants. Its secret (`whsec_` and 32
//!   base62 characters) is shown when it is made and when it is rotated, and signs every
//!   delivery: `Orgs-Signature: v1=<hex HMAC-SHA256 of "{timestamp}.{body}">`, with the
//!   timestamp (Unix seconds) in `Orgs-Timestamp`, so a receiver can refuse replays older than
//!   five minutes.
//! - A delivery only ever reaches public addresses: the host's every address is checked when the
//!   endpoint is registered and again at every attempt (a name can be pointed elsewhere after
//!   registration), and the connection goes to the address checked.
//! - Deliveries are at least once: retried with exponential backoff for 24 hours, then failed.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};

use super::{DomainError, Timestamp, UserId, WebhookId};

/// Endpoints per organization.
pub const MAX_WEBHOOKS: usize = 10;
/// The longest URL an endpoint may have.
pub const MAX_URL_LEN: usize = 2048;
/// How long a delivery is tried before it is marked failed.
pub const RETRY_FOR: time::Duration = time::Duration::hours(24);
/// The longest wait between two attempts.
pub const MAX_BACKOFF: time::Duration = time::Duration::hours(1);
/// How long one attempt may take, connecting included.
pub const DELIVERY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// How much of a receiver's answer is kept in the delivery log.
pub const KEPT_RESPONSE_BYTES: usize = 1024;
/// The prefix of every endpoint secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// What an endpoint can hear about.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
pub enum EventType {
    /// An invitation was made (`data`: `invitation_id`, `email`, `role`).
    #[serde(rename = "member.invited")]
    MemberInvited,
    /// Someone joined (`data`: `user_id`, `email`, `role`).
    #[serde(rename = "member.joined")]
    MemberJoined,
    /// A member left or was removed (`data`: `user_id`, `email`, `role`).
    #[serde(rename = "member.removed")]
    MemberRemoved,
    /// A member's role changed (`data`: `user_id`, `email`, `role`, `previous_role`).
    #[serde(rename = "member.role_changed")]
    MemberRoleChanged,
    /// A cluster was created (`data`: `cluster_id`, `name`, `state`).
    #[serde(rename = "cluster.created")]
    ClusterCreated,
    /// A cluster's state changed (`data`: `cluster_id`, `name`, `state`, `previous_state`).
    #[serde(rename = "cluster.state_changed")]
    ClusterStateChanged,
    /// A managed cluster's node applied a revision of its users (`data`: `cluster_id`,
    /// `instance_id`, `revision`).
    #[serde(rename = "cluster.user_applied")]
    ClusterUserApplied,
    /// The organization's credits fell under a tenth of its last grant (`data`: `balance`).
    #[serde(rename = "credits.low")]
    CreditsLow,
}

impl EventType {
    pub const ALL: [EventType; 8] = [
        EventType::MemberInvited,
        EventType::MemberJoined,
        EventType::MemberRemoved,
        EventType::MemberRoleChanged,
        EventType::ClusterCreated,
        EventType::ClusterStateChanged,
        EventType::ClusterUserApplied,
        EventType::CreditsLow,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::MemberInvited => "member.invited",
            EventType::MemberJoined => "member.joined",
            EventType::MemberRemoved => "member.removed",
            EventType::MemberRoleChanged => "member.role_changed",
            EventType::ClusterCreated => "cluster.created",
            EventType::ClusterStateChanged => "cluster.state_changed",
            EventType::ClusterUserApplied => "cluster.user_applied",
            EventType::CreditsLow => "credits.low",
        }
    }
}

/// The event types an endpoint asked for: at least one, each once, in [`EventType::ALL`]'s order.
pub fn event_types(asked: &[EventType]) -> Result<Vec<EventType>, DomainError> {
    if asked.is_empty() {
        return Err(DomainError::Invalid("an endpoint needs at least one event type".into()));
    }
    Ok(EventType::ALL.into_iter().filter(|t| asked.contains(t)).collect())
}

/// Which addresses deliveries may reach. Deployed, only public ones: no function reads this
/// from its configuration, so no template can widen it. The test stack alone lets a receiver
/// on the loopback through, over plain HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Targets {
    #[default]
    PublicOnly,
    /// Public addresses, and loopback ones (`http` allowed to them): the test stack's receiver.
    LoopbackToo,
}

impl Targets {
    /// Whether a delivery may connect to `ip`.
    pub fn allows(self, ip: IpAddr) -> bool {
        is_public(ip) || (self == Targets::LoopbackToo && ip.is_loopback())
    }
}

/// Whether `ip` is a public unicast address: not loopback, private, shared (CGNAT), link-local
/// (the instance metadata service among them), unspecified, multicast, broadcast, reserved,
/// benchmarking or documentation space; for IPv6, only global unicast (`2000::/3`) outside the
/// documentation and translation prefixes, and an IPv4-mapped address as its IPv4 address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let refused = a == 0 // "this network"
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 169 && b == 254) // link-local, the metadata service's 169.254.169.254 among it
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // documentation
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 192 && b == 168)
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // documentation
        || (a == 203 && b == 0 && c == 113) // documentation
        || a >= 224; // multicast, reserved, broadcast
    !refused
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let segments = ip.segments();
    let global_unicast = (segments[0] & 0xe000) == 0x2000;
    let documentation = segments[0] == 0x2001 && segments[1] == 0x0db8;
    // 2001::/23 holds Teredo, ORCHID and benchmarking blocks; 2002::/16 is 6to4, which embeds an
    // IPv4 address of any kind.
    let special = (segments[0] == 0x2001 && segments[1] < 0x0200) || segments[0] == 0x2002;
    global_unicast && !documentation && !special
}

/// An endpoint's URL: `https`, a host, no credentials in it, at most [`MAX_URL_LEN`]
/// characters; an address literal must be one deliveries may reach. (Names are checked where
/// they are resolved.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    pub fn parse(raw: &str, targets: Targets) -> Result<Self, DomainError> {
        let invalid = |why: &str| DomainError::Invalid(format!("the webhook URL {why}"));
        if raw.len() > MAX_URL_LEN {
            return Err(invalid(&format!("is longer than {MAX_URL_LEN} characters")));
        }
        let uri: http::Uri = raw.parse().map_err(|_| invalid("is not a URL"))?;
        let authority = uri.authority().ok_or_else(|| invalid("has no host"))?;
        if authority.as_str().contains('@') {
            return Err(invalid("must not carry a user name or password"));
        }
        let host = authority.host();
        if host.is_empty() {
            return Err(invalid("has no host"));
        }
        let literal = literal_ip(host);
        match uri.scheme_str() {
            Some("https") => {}
            Some("http") if targets == Targets::LoopbackToo && literal.is_some_and(|ip| ip.is_loopback()) => {
            }
            _ => return Err(invalid("must use https")),
        }
        if let Some(ip) = literal
            && !targets.allows(ip)
        {
            return Err(invalid(
                "must reach a public address (not loopback, private, link-local or metadata)",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// A URL read back from the table, where only [`WebhookUrl::parse`] put it.
    pub fn stored(raw: String) -> Self {
        Self(raw)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The host, as the URL names it (an address literal without its IPv6 brackets).
    pub fn host(&self) -> String {
        let uri: Option<http::Uri> = self.0.parse().ok();
        let host = uri.as_ref().and_then(|u| u.host()).unwrap_or_default();
        host.trim_start_matches('[').trim_end_matches(']').to_owned()
    }

    /// The port: the URL's, or its scheme's.
    pub fn port(&self) -> u16 {
        let uri: Option<http::Uri> = self.0.parse().ok();
        match uri.as_ref().and_then(|u| u.port_u16()) {
            Some(port) => port,
            None if uri.as_ref().and_then(|u| u.scheme_str()) == Some("http") => 80,
            None => 443,
        }
    }
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The address a host names literally (`203.0.113.9`, `[2001:db8::1]`), if it is one.
fn literal_ip(host: &str) -> Option<IpAddr> {
    host.trim_start_matches('[').trim_end_matches(']').parse().ok()
}

/// An endpoint's signing secret. Shown once (at creation and rotation); kept in the table,
/// because signing needs it whole.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    pub fn generate() -> Self {
        Self(format!("{SECRET_PREFIX}{}", super::api_keys::random_base62(32)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `v1=` and the hex HMAC-SHA256, under this secret, of `"{timestamp}.{body}"`.
    pub fn sign(&self, timestamp: i64, body: &[u8]) -> String {
        // HMAC takes a key of any length; this cannot fail.
        let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(self.0.as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        let digest = mac.finalize().into_bytes();
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        format!("v1={hex}")
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(..)")
    }
}

/// An endpoint as the API shows it (never its secret).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Webhook {
    pub webhook_id: WebhookId,
    pub url: WebhookUrl,
    pub events: Vec<EventType>,
    pub description: String,
    pub created_at: Timestamp,
    pub created_by: UserId,
    /// When its secret was last made (creation or rotation).
    pub secret_rotated_at: Timestamp,
}

/// One event as endpoints receive it. Decoded from the table's stream by the store; its body is
/// made once, when its deliveries are queued, so that every attempt and redelivery sends the same
/// bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEvent {
    pub org: super::OrgId,
    pub event_type: EventType,
    /// Stable across the stream's redeliveries of the change: a UUIDv5 of the stream record's id.
    pub event_id: String,
    /// Orders an organization's events: the stream's sequence number of the change, zero-padded
    /// to 40 digits.
    pub delivery_id: String,
    pub occurred_at: Timestamp,
    /// The event's facts: ids, emails, roles, names, states. Never a secret.
    pub data: serde_json::Map<String, serde_json::Value>,
}

/// The body every delivery of an event carries.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct WebhookPayload {
    /// The event's id: the same in every attempt and redelivery.
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub created_at: Timestamp,
    pub organization_id: super::OrgId,
    /// The event's facts, by type: see [`EventType`].
    #[schema(value_type = Object)]
    pub data: serde_json::Map<String, serde_json::Value>,
}

impl WebhookEvent {
    pub fn payload(&self) -> WebhookPayload {
        WebhookPayload {
            id: self.event_id.clone(),
            event_type: self.event_type,
            created_at: self.occurred_at,
            organization_id: self.org,
            data: self.data.clone(),
        }
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its first attempt, or for the next after a failed one.
    Pending,
    /// A 2xx answered it.
    Delivered,
    /// Still failing 24 hours after the event: no more attempts unless redelivered.
    Failed,
}

/// One event's delivery to one endpoint, as the delivery log shows it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Delivery {
    /// Orders an endpoint's deliveries; the redeliver route names it.
    pub delivery_id: String,
    /// The event's id: the same in every attempt and redelivery (receivers deduplicate on it).
    pub event_id: String,
    pub event_type: EventType,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub created_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_attempt_at: Option<Timestamp>,
    /// The receiver's last HTTP status, if it answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_status_code: Option<u16>,
    /// Why the last attempt failed, when it did without an HTTP answer (refused address,
    /// timeout, connection).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// The start of the receiver's last answer, at most 1 kB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_response: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<Timestamp>,
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub response: Option<String>,
}

impl Attempt {
    /// A 2xx answer: delivered. A redirect is not followed and counts as a failure.
    pub fn succeeded(&self) -> bool {
        self.status_code.is_some_and(|code| (200..300).contains(&code))
    }
}

/// The wait before attempt `attempts + 1`, after `attempts` failed ones: one minute, doubled
/// each time, at most an hour.
pub fn backoff(attempts: u32) -> time::Duration {
    let minutes = 1i64 << attempts.saturating_sub(1).min(10);
    time::Duration::minutes(minutes).min(MAX_BACKOFF)
}

/// `text` cut to at most [`KEPT_RESPONSE_BYTES`], on a character boundary.
pub fn kept(text: &str) -> String {
    let mut end = text.len().min(KEPT_RESPONSE_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("address")
    }

    #[test]
    fn only_public_addresses_are_public() {
        for refused in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "198.18.0.1",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd00:ec2::254",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "2001:db8::1",
            "2002:a00:1::1",
            "ff02::1",
        ] {
            assert!(!is_public(ip(refused)), "{refused} must be refused");
        }
        for public in
            ["1.1.1.1", "52.94.76.10", "172.32.0.1", "100.128.0.1", "2600:1f18::1", "::ffff:8.8.8.8"]
        {
            assert!(is_public(ip(public)), "{public} is public");
        }
        assert!(Targets::LoopbackToo.allows(ip("127.0.0.1")));
        assert!(!Targets::LoopbackToo.allows(ip("169.254.169.254")), "the loopback only");
        assert!(!Targets::PublicOnly.allows(ip("127.0.0.1")));
    }

    #[test]
    fn a_webhook_url_is_https_to_a_host_without_credentials() {
        let ok = WebhookUrl::parse("https://hooks.example.com/orgs?x=1", Targets::PublicOnly).expect("valid");
        assert_eq!((ok.host().as_str(), ok.port()), ("hooks.example.com", 443));
        assert_eq!(
            WebhookUrl::parse("https://[2600:1f18::1]:8443/", Targets::PublicOnly).expect("v6").port(),
            8443
        );
        for (bad, why) in [
            ("http://hooks.example.com/", "https"),
            ("ftp://hooks.example.com/", "https"),
            ("https://user:pw@hooks.example.com/", "user name"),
            ("https://127.0.0.1/", "public"),
            ("https://169.254.169.254/latest/meta-data/", "public"),
            ("https://10.0.0.5/", "public"),
            ("https://[::1]/", "public"),
            ("/relative", "host"),
            ("not a url", "URL"),
        ] {
            match WebhookUrl::parse(bad, Targets::PublicOnly) {
                Err(DomainError::Invalid(message)) => assert!(message.contains(why), "{bad}: {message}"),
                other => panic!("{bad} accepted: {other:?}"),
            }
        }
        let long = format!("https://hooks.example.com/{}", "a".repeat(MAX_URL_LEN));
        assert!(WebhookUrl::parse(&long, Targets::PublicOnly).is_err());
        // The test stack's receiver: plain HTTP to the loopback, and only there.
        let local = WebhookUrl::parse("http://127.0.0.1:9000/hook", Targets::LoopbackToo).expect("loopback");
        assert_eq!((local.host().as_str(), local.port()), ("127.0.0.1", 9000));
        assert!(WebhookUrl::parse("http://127.0.0.1:9000/hook", Targets::PublicOnly).is_err());
        assert!(WebhookUrl::parse("http://hooks.example.com/", Targets::LoopbackToo).is_err());
    }

    #[test]
    fn the_signature_is_the_hmac_of_the_timestamp_and_the_body() {
        // RFC 4231's second case is HMAC-SHA256("Jefe", "what do ya want for nothing?"); here
        // the message is "{timestamp}.{body}", so split it the same way.
        let secret = WebhookSecret("Jefe".into());
        let expected = "v1=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        // "what do ya want for nothing?" is not of the form "n.body"; sign a message that is,
        // and check it against the same HMAC computed directly.
        let direct = {
            let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(b"Jefe").expect("key");
            mac.update(b"what do ya want for nothing?");
            let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
            format!("v1={hex}")
        };
        assert_eq!(direct, expected, "the HMAC itself is RFC 4231's");
        let signed = secret.sign(1_700_000_000, b"{\"a\":1}");
        let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(b"Jefe").expect("key");
        mac.update(b"1700000000.{\"a\":1}");
        let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(signed, format!("v1={hex}"));
        assert_ne!(signed, secret.sign(1_700_000_001, b"{\"a\":1}"), "the timestamp is signed");
        let generated = WebhookSecret::generate();
        assert!(generated.as_str().starts_with(SECRET_PREFIX) && generated.as_str().len() == 38);
        assert_eq!(format!("{generated:?}"), "WebhookSecret(..)", "never in a log");
    }

    #[test]
    fn backoff_doubles_from_a_minute_to_an_hour() {
        let minutes: Vec<i64> = (1..=9).map(|n| backoff(n).whole_minutes()).collect();
        assert_eq!(minutes, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(kept(&"é".repeat(600)).len(), 1024);
        assert_eq!(kept("short"), "short");
    }
}
