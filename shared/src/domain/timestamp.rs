//! Timestamps stored as RFC 3339 strings in UTC with whole seconds, so that DynamoDB conditions
//! can compare them as strings (`expires_at > :now`) and clients read them as they are.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    pub fn from_datetime(t: OffsetDateTime) -> Self {
        let utc = t.to_offset(UtcOffset::UTC);
        Self(utc.replace_nanosecond(0).unwrap_or(utc))
    }

    pub fn plus(self, d: Duration) -> Self {
        Self(self.0 + d)
    }

    /// Seconds since the epoch, for DynamoDB's TTL attribute.
    pub fn unix(self) -> i64 {
        self.0.unix_timestamp()
    }

    pub fn datetime(self) -> OffsetDateTime {
        self.0
    }

    /// The fixed-width text form (`2026-11-28T13:00:00Z`) that is stored and compared.
    pub fn to_rfc3339(self) -> String {
        self.0.format(&Rfc3339).unwrap_or_else(|_| self.0.unix_timestamp().to_string())
    }
}

impl TryFrom<String> for Timestamp {
    type Error = time::error::Parse;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        OffsetDateTime::parse(&value, &Rfc3339).map(Self::from_datetime)
    }
}

impl From<Timestamp> for String {
    fn from(value: Timestamp) -> Self {
        value.to_rfc3339()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn text_order_is_time_order() {
        let early = Timestamp::from_datetime(datetime!(2026-01-02 03:04:05.999 UTC));
        let late = early.plus(Duration::days(7));
        assert_eq!(early.to_rfc3339(), "2026-01-02T03:04:05Z");
        assert_eq!(late.to_rfc3339(), "2026-01-09T03:04:05Z");
        assert!(early.to_rfc3339() < late.to_rfc3339());
    }

    #[test]
    fn other_offsets_are_stored_in_utc() {
        let t = Timestamp::from_datetime(datetime!(2026-01-02 03:04:05 +02:00));
        assert_eq!(t.to_rfc3339(), "2026-01-02T01:04:05Z");
    }
}
