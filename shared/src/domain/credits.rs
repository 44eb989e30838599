//! Credits and usage: what running a cluster costs, and the report of who ran what and when.
//!
//! Amounts are kept as whole thousandths of a credit, so that a balance compared in a DynamoDB
//! condition (`granted > consumed`) and every sum are exact; they are shown as decimal numbers.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

use super::{DomainError, InstanceType, OrgId, Timestamp, UserId};

/// An amount of credits, in thousandths. Serialized as a number of credits (`12.5`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Credits(i64);

impl Credits {
    pub const ZERO: Credits = Credits(0);

    pub fn from_millis(millis: i64) -> Self {
        Self(millis)
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    /// A positive amount as a person writes it: at most three decimals, at most a billion.
    pub fn parse_positive(value: f64) -> Result<Self, DomainError> {
        let millis = (value * 1000.0).round();
        if !value.is_finite() || value <= 0.0 || value > 1e9 || ((value * 1000.0) - millis).abs() > 1e-6 {
            return Err(DomainError::Invalid(format!(
                "credits must be a positive number of at most 1000000000 with at most three decimals, not {value}"
            )));
        }
        Ok(Self(millis as i64))
    }

    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }
}

impl std::ops::Add for Credits {
    type Output = Credits;
    fn add(self, other: Credits) -> Credits {
        Credits(self.0.saturating_add(other.0))
    }
}

impl std::ops::Sub for Credits {
    type Output = Credits;
    fn sub(self, other: Credits) -> Credits {
        Credits(self.0.saturating_sub(other.0))
    }
}

impl fmt::Display for Credits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:03}", abs / 1000, abs % 1000)
    }
}

impl Serialize for Credits {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.as_f64())
    }
}

impl<'de> Deserialize<'de> for Credits {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = f64::deserialize(d)?;
        Ok(Credits((value * 1000.0).round() as i64))
    }
}

/// Credits per instance-hour, by instance type, with a rate for every other type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rates {
    by_type: HashMap<String, Credits>,
    otherwise: Credits,
}

impl Default for Rates {
    /// One credit per instance-hour, whatever the type.
    fn default() -> Self {
        Self { by_type: HashMap::new(), otherwise: Credits(1000) }
    }
}

impl Rates {
    /// `m5.large=1,m5.xlarge=2,*=1`: credits per instance-hour; `*` is every other type (one
    /// credit when it is not named).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut rates = Self::default();
        for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').ok_or_else(|| format!("'{pair}' is not type=rate"))?;
            let value: f64 = value.trim().parse().map_err(|_| format!("'{value}' is not a number"))?;
            let rate = Credits::parse_positive(value).map_err(|e| e.to_string())?;
            match name.trim() {
                "*" => rates.otherwise = rate,
                name => {
                    let kind = InstanceType::parse(name).map_err(|e| e.to_string())?;
                    rates.by_type.insert(kind.as_str().to_owned(), rate);
                }
            }
        }
        Ok(rates)
    }

    pub fn of(&self, kind: &InstanceType) -> Credits {
        self.by_type.get(kind.as_str()).copied().unwrap_or(self.otherwise)
    }
}

/// What `instances` instances at `rate` per instance-hour cost over `seconds`, rounded down to
/// the thousandth. Charges along one interval are differences of this from the interval's
/// start, so however often it is charged the charges add up to the cost of the whole interval.
/// How often the scheduled job charges running clusters (its schedule in the template, held
/// together by a test): the most a cluster runs uncharged.
pub const CHARGING_PERIOD: time::Duration = time::Duration::minutes(5);

pub fn cost(rate: Credits, instances: u32, seconds: i64) -> Credits {
    let millis = i128::from(rate.0) * i128::from(instances) * i128::from(seconds.max(0)) / 3600;
    Credits(i64::try_from(millis).unwrap_or(i64::MAX))
}

/// A cluster's running, from the cloud's confirmation that it runs until the cloud's
/// confirmation that it stopped (or until now, while it runs). Attributed to the member who
/// started it, who keeps it after leaving.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageInterval {
    pub org_id: OrgId,
    pub cluster_id: crate::domain::ClusterId,
    pub cluster_name: String,
    pub instance_type: InstanceType,
    /// The head node and the workers.
    pub instances: u32,
    /// Credits per instance-hour when it started.
    pub rate: Credits,
    pub started_by: UserId,
    pub from: Timestamp,
    pub to: Timestamp,
}

impl UsageInterval {
    /// Seconds of this interval inside `window`.
    fn seconds_within(&self, window: &Window) -> i64 {
        let from = self.from.max(window.from);
        let to = self.to.min(window.to);
        (to.unix() - from.unix()).max(0)
    }
}

/// The part of time a report covers: `from` included, `to` excluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Window {
    pub from: Timestamp,
    pub to: Timestamp,
}

/// Longest window one report covers.
pub const MAX_WINDOW_DAYS: i64 = 366;

impl Window {
    pub fn new(from: Timestamp, to: Timestamp) -> Result<Self, DomainError> {
        if from >= to {
            return Err(DomainError::Invalid(format!("'from' ({from}) must be before 'to' ({to})")));
        }
        if to.unix() - from.unix() > MAX_WINDOW_DAYS * 86_400 {
            return Err(DomainError::Invalid(format!("a report covers at most {MAX_WINDOW_DAYS} days")));
        }
        Ok(Self { from, to })
    }
}

/// One line of a report: a cluster, a member, or the total.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct UsageLine {
    /// `cluster`, `member` or `total`.
    pub kind: &'static str,
    /// The cluster's or member's id; empty for the total.
    pub id: String,
    /// The cluster's name; empty otherwise.
    pub name: String,
    /// Hours it ran (for a member: the hours of the clusters they started; for the total: the
    /// clusters' hours added up).
    pub hours: f64,
    /// Hours times instances.
    pub instance_hours: f64,
    pub credits: Credits,
}

/// Usage in a window, per cluster, per member and in total.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct UsageReport {
    pub window: Window,
    pub clusters: Vec<UsageLine>,
    pub members: Vec<UsageLine>,
    pub total: UsageLine,
    /// Per UTC day and cluster, the days it ran in the window (the dashboard's chart), by day
    /// then cluster. Each day's credits are rounded down on their own, so they may add up to a
    /// thousandth less than the cluster's line.
    pub daily: Vec<DailyUsage>,
}

/// One cluster's running on one UTC day.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DailyUsage {
    /// `YYYY-MM-DD`, UTC.
    pub day: String,
    pub cluster_id: crate::domain::ClusterId,
    pub hours: f64,
    pub credits: Credits,
}

const DAY: i64 = 86_400;

/// `interval` clipped to `window`, cut at UTC midnights: (day's first second, seconds).
fn days_within(interval: &UsageInterval, window: &Window) -> Vec<(i64, i64)> {
    let (from, to) = (interval.from.max(window.from).unix(), interval.to.min(window.to).unix());
    let mut pieces = Vec::new();
    let mut start = from;
    while start < to {
        let day = start.div_euclid(DAY) * DAY;
        let end = to.min(day + DAY);
        pieces.push((day, end - start));
        start = end;
    }
    pieces
}

fn day_name(day_start: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(day_start).map(|t| t.date().to_string()).unwrap_or_default()
}

#[derive(Default)]
struct Sum {
    name: String,
    seconds: i64,
    instance_seconds: i64,
    credits: Credits,
}

impl Sum {
    fn line(self, kind: &'static str, id: String) -> UsageLine {
        UsageLine {
            kind,
            id,
            name: self.name,
            hours: hours(self.seconds),
            instance_hours: hours(self.instance_seconds),
            credits: self.credits,
        }
    }
}

/// Hours to the thousandth (3.6 seconds).
fn hours(seconds: i64) -> f64 {
    (seconds as f64 / 3.6).round() / 1000.0
}

impl UsageReport {
    /// Adds up `intervals` (closed ones, and running ones ending now) clipped to `window`.
    /// Lines come in a stable order: clusters by id (creation order), members by id.
    pub fn build(window: Window, intervals: &[UsageInterval]) -> Self {
        let mut clusters: BTreeMap<crate::domain::ClusterId, Sum> = BTreeMap::new();
        let mut members: BTreeMap<String, Sum> = BTreeMap::new();
        let mut total = Sum::default();
        let mut daily: BTreeMap<(i64, crate::domain::ClusterId), (i64, Credits)> = BTreeMap::new();
        for interval in intervals {
            for (day, seconds) in days_within(interval, &window) {
                let entry = daily.entry((day, interval.cluster_id)).or_default();
                entry.0 += seconds;
                entry.1 = entry.1 + cost(interval.rate, interval.instances, seconds);
            }
            let seconds = interval.seconds_within(&window);
            if seconds == 0 {
                continue;
            }
            let instance_seconds = seconds * i64::from(interval.instances);
            let credits = cost(interval.rate, interval.instances, seconds);
            let cluster = clusters.entry(interval.cluster_id).or_default();
            cluster.name = interval.cluster_name.clone();
            let member = members.entry(interval.started_by.as_str().to_owned()).or_default();
            for sum in [cluster, member, &mut total] {
                sum.seconds += seconds;
                sum.instance_seconds += instance_seconds;
                sum.credits = sum.credits + credits;
            }
        }
        Self {
            window,
            clusters: clusters.into_iter().map(|(id, sum)| sum.line("cluster", id.to_string())).collect(),
            members: members.into_iter().map(|(id, sum)| sum.line("member", id)).collect(),
            total: total.line("total", String::new()),
            daily: daily
                .into_iter()
                .map(|((day, cluster_id), (seconds, credits))| DailyUsage {
                    day: day_name(day),
                    cluster_id,
                    hours: hours(seconds),
                    credits,
                })
                .collect(),
        }
    }

    /// The same lines as CSV (RFC 4180): a header, the clusters, the members, the total.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("kind,id,name,hours,instance_hours,credits\r\n");
        for line in self.clusters.iter().chain(&self.members).chain(std::iter::once(&self.total)) {
            out.push_str(&format!(
                "{},{},{},{},{},{}\r\n",
                line.kind,
                csv_field(&line.id),
                csv_field(&line.name),
                line.hours,
                line.instance_hours,
                line.credits
            ));
        }
        out
    }
}

/// A field quoted when it holds a comma, a quote or a line break; a leading `=`, `+`, `-` or `@`
/// is prefixed with `'` so that a spreadsheet never runs it as a formula.
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) { format!("'{value}") } else { value.to_owned() };
    if value.contains([',', '"', '\r', '\n']) { format!("\"{}\"", value.replace('"', "\"\"")) } else { value }
}

/// An organization's credits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Balance {
    pub granted: Credits,
    pub consumed: Credits,
    /// Granted minus consumed; at zero or below, nothing more may be created or started.
    pub balance: Credits,
}

impl Balance {
    pub fn exhausted(&self) -> bool {
        self.balance <= Credits::ZERO
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn at(hour: i64, minute: i64) -> Timestamp {
        Timestamp::from_datetime(datetime!(2026-11-01 00:00 UTC))
            .plus(time::Duration::hours(hour) + time::Duration::minutes(minute))
    }

    fn interval(
        cluster: u128,
        by: &str,
        instances: u32,
        rate: i64,
        from: Timestamp,
        to: Timestamp,
    ) -> UsageInterval {
        UsageInterval {
            org_id: OrgId::parse("0193a0c0-0000-7000-8000-000000000001").expect("org"),
            cluster_id: crate::domain::ClusterId::from_u128(cluster),
            cluster_name: format!("c{cluster}"),
            instance_type: InstanceType::parse("m5.large").expect("type"),
            instances,
            rate: Credits(rate),
            started_by: UserId::parse(by).expect("user"),
            from,
            to,
        }
    }

    #[test]
    fn a_window_cuts_intervals_on_both_sides_and_sums_per_cluster_member_and_total() {
        let window = Window::new(at(1, 0), at(4, 0)).expect("window");
        let report = UsageReport::build(
            window,
            &[
                // 00:00-02:00, 3 instances at 1 credit: 1 hour inside (01:00-02:00).
                interval(1, "alice", 3, 1000, at(0, 0), at(2, 0)),
                // 03:30-05:00: half an hour inside.
                interval(1, "bob", 3, 1000, at(3, 30), at(5, 0)),
                // 02:00-02:45, 1 instance at 2 credits: all inside.
                interval(2, "bob", 1, 2000, at(2, 0), at(2, 45)),
                // Before and after the window: nothing.
                interval(2, "carol", 1, 2000, at(0, 0), at(1, 0)),
                interval(2, "carol", 1, 2000, at(4, 0), at(6, 0)),
            ],
        );
        let line = |l: &UsageLine| (l.id.clone(), l.hours, l.instance_hours, l.credits.to_string());
        assert_eq!(
            report.clusters.iter().map(line).collect::<Vec<_>>(),
            [
                (crate::domain::ClusterId::from_u128(1).to_string(), 1.5, 4.5, "4.500".to_owned()),
                (crate::domain::ClusterId::from_u128(2).to_string(), 0.75, 0.75, "1.500".to_owned()),
            ]
        );
        assert_eq!(
            report.members.iter().map(line).collect::<Vec<_>>(),
            [
                ("alice".to_owned(), 1.0, 3.0, "3.000".to_owned()),
                ("bob".to_owned(), 1.25, 2.25, "3.000".to_owned())
            ]
        );
        assert_eq!(line(&report.total), (String::new(), 2.25, 5.25, "6.000".to_owned()));
    }

    #[test]
    fn days_cut_at_utc_midnight_within_the_window() {
        // 2026-11-01 22:00 to 2026-11-03 01:30, 2 instances at 1 credit; window from 23:00.
        let window = Window::new(at(23, 0), at(72, 0)).expect("window");
        let report = UsageReport::build(window, &[interval(1, "alice", 2, 1000, at(22, 0), at(49, 30))]);
        let days: Vec<_> =
            report.daily.iter().map(|d| (d.day.as_str(), d.hours, d.credits.to_string())).collect();
        assert_eq!(
            days,
            [
                ("2026-11-01", 1.0, "2.000".to_owned()),
                ("2026-11-02", 24.0, "48.000".to_owned()),
                ("2026-11-03", 1.5, "3.000".to_owned()),
            ]
        );
        assert_eq!(report.clusters[0].hours, 26.5, "the days add up to the cluster's line");
    }

    #[test]
    fn charges_along_an_interval_add_up_to_its_cost() {
        let rate = Credits(1234);
        let whole = cost(rate, 7, 10_000);
        let mut charged = Credits::ZERO;
        let mut last = 0;
        for t in [1, 299, 300, 4_000, 7_777, 10_000] {
            charged = charged + (cost(rate, 7, t) - cost(rate, 7, last));
            last = t;
        }
        assert_eq!(charged, whole);
        assert_eq!(cost(Credits(1000), 2, 1800).to_string(), "1.000");
    }

    #[test]
    fn rates_name_types_and_fall_back() {
        let rates = Rates::parse("m5.large=0.5, m5.xlarge=2,*=1.25").expect("rates");
        assert_eq!(rates.of(&InstanceType::parse("m5.large").expect("t")), Credits(500));
        assert_eq!(rates.of(&InstanceType::parse("c6i.2xlarge").expect("t")), Credits(1250));
        assert_eq!(
            Rates::parse("").expect("none").of(&InstanceType::parse("t3.micro").expect("t")),
            Credits(1000)
        );
        for bad in ["m5.large", "m5.large=-1", "large=1", "m5.large=0.0001", "*=x"] {
            assert!(Rates::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn amounts_are_exact_thousandths() {
        assert_eq!(Credits::parse_positive(12.5).expect("ok").to_string(), "12.500");
        assert_eq!(Credits(-1500).to_string(), "-1.500");
        for bad in [0.0, -1.0, 0.0001, f64::NAN, 2e9] {
            assert!(Credits::parse_positive(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_field("plain"), "plain");
    }
}
