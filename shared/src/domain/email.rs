//! An email address that can only exist lowercased, trimmed and plausibly deliverable.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::DomainError;

/// A validated, lowercased email address. Holding one means it was checked once, at the edge.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

/// RFC 5321 caps a forward path at 254 octets.
const MAX_LEN: usize = 254;

impl Email {
    /// Parses user input. Rejects anything SES could not send to: no `@`, empty parts, spaces,
    /// control characters, a domain without a dot, or more than 254 octets.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let candidate = raw.trim().to_lowercase();
        let invalid = || DomainError::Invalid(format!("'{}' is not a valid email address", raw.trim()));
        if candidate.is_empty() || candidate.len() > MAX_LEN {
            return Err(invalid());
        }
        let Some((local, domain)) = candidate.rsplit_once('@') else {
            return Err(invalid());
        };
        let bad_char = |c: char| c.is_whitespace() || c.is_control() || "<>()[],;:\\\"@".contains(c);
        let domain_ok = !domain.is_empty()
            && domain.contains('.')
            && !domain.starts_with(['.', '-'])
            && !domain.ends_with(['.', '-'])
            && !domain.contains("..")
            && domain.chars().all(|c| c.is_alphanumeric() || c == '.' || c == '-');
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && !local.chars().any(bad_char);
        if domain_ok && local_ok { Ok(Self(candidate)) } else { Err(invalid()) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the `@`, used to name a personal organization.
    pub fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or(&self.0)
    }
}

impl TryFrom<String> for Email {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Email> for String {
    fn from(value: Email) -> Self {
        value.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_is_lowercased_and_trimmed() -> Result<(), DomainError> {
        let email = Email::parse("  Bob@Example.COM ")?;
        assert_eq!(email.as_str(), "bob@example.com");
        assert_eq!(email.local_part(), "bob");
        Ok(())
    }

    #[test]
    fn malformed_addresses_are_rejected() {
        for raw in [
            "",
            "bob",
            "bob@",
            "@example.com",
            "bob@example",
            "bob@@example.com",
            "bo b@example.com",
            "bob@exa mple.com",
            "bob@.example.com",
            "bob@example.com.",
            ".bob@example.com",
            "bob..x@example.com",
            "bob@example..com",
            "<bob>@example.com",
            "bob\n@example.com",
        ] {
            assert!(Email::parse(raw).is_err(), "{raw:?} should be rejected");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse(&long).is_err());
    }

    #[test]
    fn plus_addresses_and_subdomains_are_accepted() {
        assert!(Email::parse("bob+orgs@mail.example.co.uk").is_ok());
    }
}
