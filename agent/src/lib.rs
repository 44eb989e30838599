//! The node agent of managed clusters. Every node (head and workers) runs it as a systemd service:
//! it pulls the cluster's account changes after the last revision it applied, applies each with
//! the system's own tools ([`apply`]), saves its position after every record ([`state`]),
//! acknowledges what it applied, and heartbeats the members' activity ([`activity`]); on an error
//! it backs off and tries again. It logs JSON lines.
//!
//! The node holds no secret it was given: it enrolls with its instance identity document
//! ([`enroll`]) and renews its one-hour credential the same way.
//!
//! Configuration (environment; the unit's `EnvironmentFile`, written by the cluster's user data):
//! - `ORGS_AGENT_API_URL`: the service's base URL; `ORGS_AGENT_ORG_ID` and
//!   `ORGS_AGENT_CLUSTER_ID`: this node's organization and cluster.
//! - `ORGS_AGENT_IMDS_URL` (default `http://169.254.169.254`): the instance metadata service.
//! - `ORGS_AGENT_ROOT` (default `/`): the system to apply to; anything else is passed to
//!   shadow-utils as `--prefix` (the local stack and the tests apply to a throwaway root).
//! - `ORGS_AGENT_STATE_DIR` (default `/var/lib/orgs-agent`), `ORGS_AGENT_INTERVAL_SECS` (15).

pub mod activity;
pub mod apply;
pub mod enroll;
pub mod state;
pub mod wire;

use std::path::PathBuf;
use std::time::Duration;

use apply::Applier;
use state::{State, StateFile};
use wire::{Ack, AckResult, Heartbeat, Outcome, UserChanges};

/// Records one pull asks for.
const PAGE: u32 = 100;
/// The longest wait between tries after errors.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

#[derive(Debug, Clone)]
pub struct Config {
    pub api_url: String,
    pub org_id: String,
    pub cluster_id: String,
    pub imds_url: String,
    pub root: PathBuf,
    pub state_dir: PathBuf,
    pub interval: Duration,
}

impl Config {
    pub fn from_env() -> Result<Self, String> {
        let var = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
        let interval = match std::env::var("ORGS_AGENT_INTERVAL_SECS") {
            Ok(v) => v.parse::<u64>().map_err(|_| format!("ORGS_AGENT_INTERVAL_SECS: not a number: {v}"))?,
            Err(_) => 15,
        };
        Ok(Self {
            api_url: var("ORGS_AGENT_API_URL")?.trim_end_matches('/').to_owned(),
            org_id: var("ORGS_AGENT_ORG_ID")?,
            cluster_id: var("ORGS_AGENT_CLUSTER_ID")?,
            imds_url: std::env::var("ORGS_AGENT_IMDS_URL")
                .unwrap_or_else(|_| "http://169.254.169.254".into())
                .trim_end_matches('/')
                .to_owned(),
            root: std::env::var("ORGS_AGENT_ROOT").unwrap_or_else(|_| "/".into()).into(),
            state_dir: std::env::var("ORGS_AGENT_STATE_DIR")
                .unwrap_or_else(|_| "/var/lib/orgs-agent".into())
                .into(),
            interval: Duration::from_secs(interval.max(1)),
        })
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    pub applied: usize,
    pub failed: usize,
    /// The revision this node has applied up to.
    pub position: u64,
}

pub struct Agent {
    config: Config,
    http: reqwest::Client,
    applier: Applier,
    state: StateFile,
    identity: enroll::Identity,
}

impl Agent {
    pub fn new(config: Config) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("orgs-agent/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Self {
            applier: Applier::new(config.root.clone()),
            state: StateFile::new(&config.state_dir),
            identity: enroll::Identity::new(&config.state_dir),
            http,
            config,
        })
    }

    /// Rounds every interval until `stop` resolves; after an error, the wait doubles up to
    /// [`MAX_BACKOFF`].
    pub async fn run(&self, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        let mut failures = 0u32;
        loop {
            let wait = tokio::select! {
                _ = &mut stop => return,
                outcome = self.round() => match outcome {
                    Ok(round) => {
                        failures = 0;
                        if round.applied + round.failed > 0 {
                            tracing::info!(applied = round.applied, failed = round.failed, position = round.position, "round");
                        }
                        self.config.interval
                    }
                    Err(e) => {
                        failures += 1;
                        tracing::warn!(error = %e, failures, "round failed; backing off");
                        backoff(self.config.interval, failures)
                    }
                },
            };
            tokio::select! {
                _ = &mut stop => return,
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// One round: acknowledge what a previous run left unacknowledged, try the failed records
    /// again, pull and apply until caught up (saving the position after each record), heartbeat.
    pub async fn round(&self) -> Result<Round, String> {
        let mut state = self.state.load()?;
        self.applier.prepare().await?;
        let mut round = Round::default();
        self.acknowledge(&mut state).await?;
        for record in std::mem::take(&mut state.failed) {
            self.apply(&mut state, &record, &mut round).await?;
        }
        self.acknowledge(&mut state).await?;
        loop {
            let page: UserChanges = self
                .call(reqwest::Method::GET, &format!("users?after={}&limit={PAGE}", state.applied), None)
                .await?
                .json()
                .await
                .map_err(|e| format!("the changes could not be read: {e}"))?;
            for record in &page.users {
                self.apply(&mut state, record, &mut round).await?;
            }
            self.acknowledge(&mut state).await?;
            if page.users.is_empty() || page.revision >= page.latest_revision {
                break;
            }
        }
        self.heartbeat().await?;
        round.position = state.applied;
        Ok(round)
    }

    /// Applies one record and saves where the node stands.
    async fn apply(&self, state: &mut State, record: &wire::Record, round: &mut Round) -> Result<(), String> {
        let result = match self.applier.apply(record).await {
            Ok(()) => {
                round.applied += 1;
                AckResult { user_id: record.user_id.clone(), status: Outcome::Applied, error: None }
            }
            Err(error) => {
                round.failed += 1;
                tracing::warn!(user_id = %record.user_id, revision = record.revision, %error, "apply failed");
                AckResult { user_id: record.user_id.clone(), status: Outcome::Failed, error: Some(error) }
            }
        };
        state.record(record, result);
        self.state.save(state)
    }

    async fn acknowledge(&self, state: &mut State) -> Result<(), String> {
        if state.unacked.is_empty() {
            return Ok(());
        }
        let ack = Ack { revision: state.applied, results: &state.unacked };
        let body = serde_json::to_value(&ack).map_err(|e| e.to_string())?;
        self.call(reqwest::Method::POST, "users/ack", Some(body)).await?;
        state.unacked.clear();
        self.state.save(state)
    }

    async fn heartbeat(&self) -> Result<(), String> {
        let activity = activity::now(&self.applier);
        let now = time::OffsetDateTime::now_utc();
        let beat = Heartbeat {
            active_sessions: activity.sessions,
            last_activity_at: activity
                .active
                .then(|| now.format(&time::format_description::well_known::Rfc3339).ok())
                .flatten(),
        };
        let body = serde_json::to_value(&beat).map_err(|e| e.to_string())?;
        self.call(reqwest::Method::POST, "heartbeat", Some(body)).await.map(|_| ())
    }

    /// A call of this cluster's agent API with the node's credential; enrolls first when it has
    /// none or it is nearly over, and once more when the control plane refuses it (revoked).
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<reqwest::Response, String> {
        let mut enrolled_now = false;
        loop {
            let credential = match self.identity.current() {
                Some(credential) => credential,
                None => {
                    enrolled_now = true;
                    self.enroll().await?
                }
            };
            let url = format!("{}/v1/agent/clusters/{}/{path}", self.config.api_url, self.config.cluster_id);
            let mut request = self.http.request(method.clone(), &url).bearer_auth(&credential.credential);
            if let Some(body) = &body {
                request = request.json(body);
            }
            let response = request.send().await.map_err(|e| format!("{path}: {}", causes(&e)))?;
            let status = response.status();
            if status.is_success() {
                return Ok(response);
            }
            if status == reqwest::StatusCode::UNAUTHORIZED && !enrolled_now {
                tracing::warn!("the node's credential was refused (revoked?); enrolling again");
                self.identity.forget();
                continue;
            }
            let text = response.text().await.unwrap_or_default();
            return Err(format!("{path}: {status}: {}", text.chars().take(300).collect::<String>()));
        }
    }

    /// Enrolls this node: its identity document and signature from the metadata service, and its
    /// nonce. Saves the credential.
    async fn enroll(&self) -> Result<enroll::Credential, String> {
        let (document, signature) = enroll::identity_document(&self.http, &self.config.imds_url).await?;
        let body = serde_json::json!({
            "org_id": self.config.org_id,
            "document": document,
            "signature": signature,
            "nonce": self.identity.nonce()?,
        });
        let url = format!("{}/v1/agent/clusters/{}/enroll", self.config.api_url, self.config.cluster_id);
        let response =
            self.http.post(&url).json(&body).send().await.map_err(|e| format!("enroll: {}", causes(&e)))?;
        let status = response.status();
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            return Err(format!("enroll: {status}: {}", text.chars().take(300).collect::<String>()));
        }
        let credential: enroll::Credential =
            response.json().await.map_err(|e| format!("enroll: the answer could not be read: {e}"))?;
        self.identity.save(&credential)?;
        tracing::info!(expires_at = %credential.expires_at, "enrolled");
        Ok(credential)
    }
}

/// An error and its causes, outermost first (`error sending request: ...: Connection refused`):
/// what an operator reading a node's log needs.
pub fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let said = cause.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        source = cause.source();
    }
    text
}

/// `interval` doubled per failure, at most [`MAX_BACKOFF`], with up to a quarter more at random
/// (so the nodes of a cluster do not all come back at once).
pub fn backoff(interval: Duration, failures: u32) -> Duration {
    let base = interval.saturating_mul(1 << failures.min(16)).min(MAX_BACKOFF);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    base + base.mul_f64(f64::from(nanos % 1000) / 4000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_is_told_with_its_causes() {
        let inner = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        let outer = std::io::Error::other(Wrapped(inner));
        assert_eq!(causes(&outer), "connecting: Connection refused");
    }

    #[derive(Debug)]
    struct Wrapped(std::io::Error);
    impl std::fmt::Display for Wrapped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("connecting")
        }
    }
    impl std::error::Error for Wrapped {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn backoff_doubles_up_to_five_minutes() {
        let second = Duration::from_secs(1);
        assert!((2 * second..=(2 * second).mul_f64(1.25)).contains(&backoff(second, 1)));
        assert!((8 * second..=(8 * second).mul_f64(1.25)).contains(&backoff(second, 3)));
        assert!((MAX_BACKOFF..=MAX_BACKOFF.mul_f64(1.25)).contains(&backoff(second, 40)));
    }
}
