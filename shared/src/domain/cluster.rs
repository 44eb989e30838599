//! Clusters and their state machine. The API functions record intent (a transition to a
//! `-ing` state) on condition that the state is still the one they read; the provisioner makes
//! the cloud calls and records what the cloud confirmed. Every write names the state it expects,
//! so of two parallel actions on one cluster exactly one wins.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::credits::{Credits, Rates, UsageInterval, cost};
use super::{DomainError, OrgId, Timestamp, UserId};

macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(
    /// Where a cluster is. `-ing` states are intents the provisioner is carrying out.
    ClusterState {
        Pending => "pending",
        Starting => "starting",
        Running => "running",
        Stopping => "stopping",
        Stopped => "stopped",
        Terminating => "terminating",
        Terminated => "terminated",
        Error => "error",
    }
);

text_enum!(
    /// What happens to a cluster: a member's action, or what the cloud confirmed.
    Transition {
        Start => "start",
        Stop => "stop",
        Terminate => "terminate",
        /// The cloud confirmed the instances run (after a launch or a start).
        Running => "running",
        /// The cloud confirmed the instances stopped.
        Stopped => "stopped",
        /// The cloud confirmed the instances are gone.
        Terminated => "terminated",
        /// A cloud call failed; the intent can be retried.
        Failed => "failed",
        /// Reconciliation found the instances stopped by someone else.
        StoppedExternally => "stopped_externally",
        /// Reconciliation found the instances terminated by someone else, or missing.
        TerminatedExternally => "terminated_externally",
    }
);

text_enum!(
    /// What a member asks a cluster to do (`POST .../clusters/{id}/{action}`).
    MemberAction {
        Start => "start",
        Stop => "stop",
        Terminate => "terminate",
    }
);

impl From<MemberAction> for Transition {
    fn from(a: MemberAction) -> Self {
        match a {
            MemberAction::Start => Transition::Start,
            MemberAction::Stop => Transition::Stop,
            MemberAction::Terminate => Transition::Terminate,
        }
    }
}

impl MemberAction {
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|a| a.as_str() == raw)
    }
}

impl ClusterState {
    /// Not terminated: it may still cost money and still holds the account.
    pub fn is_live(self) -> bool {
        self != ClusterState::Terminated
    }

    /// The state `transition` leads to from here, or the 409 naming this state.
    pub fn next(self, transition: Transition) -> Result<ClusterState, DomainError> {
        use ClusterState as S;
        use Transition as T;
        let next = match (self, transition) {
            (S::Stopped | S::Error, T::Start) => Some(S::Starting),
            (S::Running | S::Error, T::Stop) => Some(S::Stopping),
            (S::Terminating | S::Terminated, T::Terminate) => None,
            (_, T::Terminate) => Some(S::Terminating),
            (S::Pending | S::Starting, T::Running) => Some(S::Running),
            (S::Stopping, T::Stopped) => Some(S::Stopped),
            (S::Terminating, T::Terminated) => Some(S::Terminated),
            (S::Pending | S::Starting | S::Stopping | S::Terminating, T::Failed) => Some(S::Error),
            (S::Running | S::Starting, T::StoppedExternally) => Some(S::Stopped),
            (S::Terminated, T::TerminatedExternally) => None,
            (_, T::TerminatedExternally) => Some(S::Terminated),
            _ => None,
        };
        next.ok_or_else(|| DomainError::Conflict(format!("a cluster that is {self} cannot {transition}")))
    }
}

/// Whether members get an account on the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserManagement {
    Managed,
    Disabled,
}

/// A cluster's name: 1 to 63 lowercase letters, digits and hyphens, starting with a letter (it
/// ends up in instance names and hostnames).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClusterName(String);

impl ClusterName {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let ok = (1..=63).contains(&raw.len())
            && raw.starts_with(|c: char| c.is_ascii_lowercase())
            && !raw.ends_with('-')
            && raw.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(DomainError::Invalid(format!(
                "'{raw}' is not a cluster name: 1 to 63 lowercase letters, digits and hyphens, starting with a letter"
            )))
        }
    }
}

impl TryFrom<String> for ClusterName {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ClusterName> for String {
    fn from(value: ClusterName) -> Self {
        value.0
    }
}

/// An EC2 instance type as AWS spells them (`m5.xlarge`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct InstanceType(String);

impl InstanceType {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let ok = raw.len() <= 32
            && raw.split_once('.').is_some_and(|(family, size)| {
                !family.is_empty()
                    && !size.is_empty()
                    && family.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && size.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            });
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(DomainError::Invalid(format!("'{raw}' is not an instance type such as m5.xlarge")))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for InstanceType {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<InstanceType> for String {
    fn from(value: InstanceType) -> Self {
        value.0
    }
}

/// Most workers one cluster may have.
pub const MAX_WORKERS: u32 = 50;

/// A cluster as members see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Cluster {
    pub cluster_id: crate::domain::ClusterId,
    pub org_id: OrgId,
    pub name: ClusterName,
    pub instance_type: InstanceType,
    pub workers: u32,
    pub user_management: UserManagement,
    pub state: ClusterState,
    pub created_by: UserId,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The account and region it runs in, fixed at creation.
    pub account_id: String,
    pub region: crate::domain::AwsRegion,
    /// The instances the cloud reported, head first.
    #[serde(default)]
    pub instances: Vec<String>,
    /// The cloud's error code and message of the last failure, until the next success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Who asked for the state it is in or heading to.
    pub last_actor: UserId,
    /// The service ports open to the world, ascending; the provisioner makes the cluster's
    /// security group match.
    #[serde(default)]
    pub open_ports: Vec<u16>,
    /// Credits per instance-hour, fixed at creation (a price change applies to new clusters).
    #[serde(rename = "credits_per_instance_hour")]
    pub rate: Credits,
    /// Since when the cloud has it running, while it does (through stopping and terminating,
    /// until the cloud confirms them): what is being charged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running: Option<Running>,
    /// Stop it after this many minutes without activity its agent reports (10 to 1440).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_stop_minutes: Option<u32>,
    /// Credits set aside in the organization's balance from its creation or start until it stops
    /// costing: what it costs for one charging period, so that no number of parallel creations
    /// or starts can commit more than the balance covers until the next charge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credits_held: Option<Credits>,
}

/// A cluster agent's heartbeat, kept with its token (not on the cluster, whose every change the
/// provisioner's stream mapping passes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AgentReport {
    /// When the heartbeat arrived.
    pub at: Timestamp,
    pub active_sessions: u32,
    /// The last time anyone used the cluster, as the agent saw it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_activity_at: Option<Timestamp>,
}

/// A cluster's current interval of running.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Running {
    /// When the cloud confirmed it running.
    pub since: Timestamp,
    /// Who started it (its creator, for a new cluster): the usage is theirs.
    pub started_by: UserId,
    /// Up to when its cost is counted in the organization's consumed credits.
    pub charged_until: Timestamp,
}

/// What a member asks for when creating a cluster (the body of `POST .../clusters`).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClusterSpec {
    pub name: ClusterName,
    pub instance_type: InstanceType,
    #[serde(deserialize_with = "super::whole::u32")]
    #[schema(maximum = 50)]
    pub workers: u32,
    pub user_management: UserManagement,
    /// Off unless given.
    #[serde(default, deserialize_with = "super::whole::option_u32")]
    #[schema(minimum = 10, maximum = 1440)]
    pub idle_stop_minutes: Option<u32>,
}

impl ClusterSpec {
    /// What the types do not already hold: at most [`MAX_WORKERS`] workers.
    pub fn check(&self) -> Result<(), DomainError> {
        super::cluster_users::check_idle_stop(self.idle_stop_minutes)?;
        if self.workers > MAX_WORKERS {
            return Err(DomainError::Invalid(format!(
                "workers may be 0 to {MAX_WORKERS}, not {}",
                self.workers
            )));
        }
        Ok(())
    }
}

impl Cluster {
    /// A new cluster as `creator` asked for it: `pending`, in `account`'s account and region.
    pub fn pending(
        org: OrgId,
        spec: ClusterSpec,
        creator: &UserId,
        account: &super::CloudAccount,
        rates: &Rates,
        now: Timestamp,
    ) -> Result<Self, DomainError> {
        spec.check()?;
        let rate = rates.of(&spec.instance_type);
        let mut cluster = Self {
            cluster_id: crate::domain::ClusterId::new(),
            org_id: org,
            name: spec.name,
            instance_type: spec.instance_type,
            workers: spec.workers,
            user_management: spec.user_management,
            state: ClusterState::Pending,
            created_by: creator.clone(),
            created_at: now,
            updated_at: now,
            account_id: account.account_id.clone(),
            region: account.region.clone(),
            instances: Vec::new(),
            last_error: None,
            last_actor: creator.clone(),
            open_ports: Vec::new(),
            rate,
            running: None,
            idle_stop_minutes: spec.idle_stop_minutes,
            credits_held: None,
        };
        // Its first charging period is set aside from its creation.
        cluster.credits_held = Some(cluster.hold());
        Ok(cluster)
    }

    /// The head node and the workers.
    pub fn instance_count(&self) -> u32 {
        1 + self.workers
    }

    /// Whether moving to `next` starts an interval of running (the cloud confirmed it runs and
    /// it was not running already, as it still is after a failed stop).
    pub fn starts_running(&self, next: ClusterState) -> bool {
        next == ClusterState::Running && self.running.is_none()
    }

    /// The interval that moving to `next` at `now` ends: the cloud confirmed it stopped or
    /// terminated.
    pub fn usage_ended(&self, next: ClusterState, now: Timestamp) -> Option<UsageInterval> {
        let running = self.running.as_ref()?;
        matches!(next, ClusterState::Stopped | ClusterState::Terminated).then(|| UsageInterval {
            org_id: self.org_id,
            cluster_id: self.cluster_id,
            cluster_name: String::from(self.name.clone()),
            instance_type: self.instance_type.clone(),
            instances: self.instance_count(),
            rate: self.rate,
            started_by: running.started_by.clone(),
            from: running.since,
            to: now.max(running.since),
        })
    }

    /// What it costs for one charging period: what a creation or start must find in the balance,
    /// beside what the organization's other clusters hold.
    pub fn hold(&self) -> Credits {
        cost(self.rate, self.instance_count(), super::credits::CHARGING_PERIOD.whole_seconds())
    }

    /// Whether moving to `next` ends what its hold covers: it stopped or terminated, or it went
    /// to `error` with nothing running (a launch or start that failed).
    pub fn releases_hold(&self, next: ClusterState, starts_running: bool) -> bool {
        self.credits_held.is_some()
            && match next {
                ClusterState::Stopped | ClusterState::Terminated => true,
                ClusterState::Error => self.running.is_none() && !starts_running,
                _ => false,
            }
    }

    /// What its running from the last charge until `now` costs (zero when it is not running).
    pub fn uncharged(&self, now: Timestamp) -> Credits {
        let Some(running) = &self.running else { return Credits::ZERO };
        let upto = |t: Timestamp| cost(self.rate, self.instance_count(), t.unix() - running.since.unix());
        upto(now.max(running.charged_until)) - upto(running.charged_until)
    }
}

/// A TCP port a member may open on a cluster: 1 to 65535.
pub fn parse_port(raw: &str) -> Result<u16, DomainError> {
    // Digits only, no leading zero: one spelling per port (the API's schema says the same).
    Some(raw)
        .filter(|r| !r.starts_with('0') && !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|r| r.parse::<u16>().ok())
        .ok_or_else(|| DomainError::Invalid(format!("'{raw}' is not a TCP port: 1 to 65535")))
}

/// [`parse_port`]'s rule as a regular expression.
pub const PORT_PATTERN: &str =
    "^(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$";

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole machine, printed (`cargo test -p orgs cluster -- --nocapture`) and held.
    #[test]
    fn the_state_machine_table() {
        let mut printed = format!("{:<12}", "state");
        for t in Transition::ALL {
            printed.push_str(&format!(" {:>21}", t.as_str()));
        }
        let mut got = Vec::new();
        for s in ClusterState::ALL {
            printed.push_str(&format!("\n{:<12}", s.as_str()));
            let row: Vec<&str> =
                Transition::ALL.iter().map(|t| s.next(*t).map(ClusterState::as_str).unwrap_or("-")).collect();
            for cell in &row {
                printed.push_str(&format!(" {cell:>21}"));
            }
            got.push((s.as_str(), row));
        }
        println!("{printed}");
        //            start       stop        terminate      running    stopped    terminated   failed   ext.stopped ext.terminated
        let expected = vec![
            ("pending", vec!["-", "-", "terminating", "running", "-", "-", "error", "-", "terminated"]),
            (
                "starting",
                vec!["-", "-", "terminating", "running", "-", "-", "error", "stopped", "terminated"],
            ),
            ("running", vec!["-", "stopping", "terminating", "-", "-", "-", "-", "stopped", "terminated"]),
            ("stopping", vec!["-", "-", "terminating", "-", "stopped", "-", "error", "-", "terminated"]),
            ("stopped", vec!["starting", "-", "terminating", "-", "-", "-", "-", "-", "terminated"]),
            ("terminating", vec!["-", "-", "-", "-", "-", "terminated", "error", "-", "terminated"]),
            ("terminated", vec!["-", "-", "-", "-", "-", "-", "-", "-", "-"]),
            ("error", vec!["starting", "stopping", "terminating", "-", "-", "-", "-", "-", "terminated"]),
        ];
        assert_eq!(got, expected);
    }

    #[test]
    fn a_terminated_cluster_never_comes_back_and_the_refusal_names_the_state() {
        for t in Transition::ALL {
            assert!(ClusterState::Terminated.next(*t).is_err(), "{t}");
        }
        match ClusterState::Terminated.next(Transition::Start) {
            Err(DomainError::Conflict(detail)) => {
                assert_eq!(detail, "a cluster that is terminated cannot start")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn names_and_instance_types_are_checked() {
        assert!(ClusterName::parse("analytics-1").is_ok());
        for bad in ["", "1abc", "Analytics", "a_b", "a-", &"a".repeat(64)] {
            assert!(ClusterName::parse(bad).is_err(), "{bad}");
        }
        assert!(InstanceType::parse("m5.xlarge").is_ok());
        assert!(InstanceType::parse("u-6tb1.metal").is_ok());
        for bad in ["", "m5", ".xlarge", "m5.", "M5.XLARGE", "m5.x large"] {
            assert!(InstanceType::parse(bad).is_err(), "{bad}");
        }
    }
}
