//! An email address that can only exist lowercased, trimmed and plausibly deliverable.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::DomainError;

/// A validated, lowercased email address that SES can deliver to: 7-bit ASCII throughout, the
/// domain in its IDNA (`xn--`) form. Holding one means it was checked once, at the edge, and two
/// addresses that look the same on the Members page are the same.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

/// RFC 5321 caps a forward path at 254 octets and a local part at 64.
const MAX_LEN: usize = 254;
const MAX_LOCAL_LEN: usize = 64;

/// Characters that show as nothing or change the direction of what follows (Unicode's format
/// characters: U+200B, U+202E, U+00AD, U+FEFF...) and control characters.
fn is_invisible(c: char) -> bool {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    matches!(
        c.general_category(),
        GeneralCategory::Format
            | GeneralCategory::Control
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
    )
}

impl Email {
    /// Parses user input. Rejects invisible or direction-changing characters, a non-ASCII local
    /// part (SES cannot deliver to one), and anything RFC 5322 or SES would not take: no `@`,
    /// empty parts, spaces, quotes, a domain without a dot, or more than 254 octets. A non-ASCII
    /// domain is converted to its `xn--` form (IDNA, UTS 46), which is what is stored, compared
    /// and mailed.
    /// The address a service account's stand-in membership carries: no mail is ever sent to it
    /// (`.invalid` cannot resolve), and no person can hold it.
    pub fn of_service_account(id: &super::ServiceAccountId) -> Self {
        Self(format!("{id}@service-accounts.invalid"))
    }

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let trimmed = raw.trim();
        if let Some(c) = trimmed.chars().find(|c| is_invisible(*c)) {
            return Err(DomainError::Invalid(format!(
                "an email address may not contain invisible or direction-changing characters (found U+{:04X})",
                u32::from(c)
            )));
        }
        let invalid = || DomainError::Invalid(format!("'{trimmed}' is not a valid email address"));
        let (local, domain) = trimmed.rsplit_once('@').ok_or_else(invalid)?;
        if !local.is_ascii() {
            return Err(DomainError::Invalid(format!(
                "'{trimmed}' cannot receive email from this service: the part before the @ must be plain ASCII"
            )));
        }
        let bad_char = |c: char| c.is_ascii_whitespace() || "<>()[],;:\\\"@".contains(c);
        if local.is_empty() || local.len() > MAX_LOCAL_LEN || local.chars().any(bad_char) {
            return Err(invalid());
        }
        let domain = idna::domain_to_ascii(domain).map_err(|_| invalid())?;
        let candidate = format!("{}@{domain}", local.to_ascii_lowercase());
        let options = email_address::Options {
            minimum_sub_domains: 2,
            allow_domain_literal: false,
            allow_display_text: false,
            allow_long_local_parts: false,
        };
        let domain_ok = !domain.starts_with('-') && !domain.ends_with(['-', '.']);
        if candidate.len() > MAX_LEN
            || !domain_ok
            || email_address::EmailAddress::parse_with_options(&candidate, options).is_err()
        {
            return Err(invalid());
        }
        Ok(Self(candidate))
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

    #[test]
    fn a_non_ascii_domain_is_stored_in_its_idna_form() -> Result<(), DomainError> {
        for (raw, stored) in [
            ("bob@bücher.example", "bob@xn--bcher-kva.example"),
            ("Bob@BÜCHER.example", "bob@xn--bcher-kva.example"),
            ("anna@例え.jp", "anna@xn--r8jz45g.jp"),
            ("ivan@пример.рф", "ivan@xn--e1afmkfd.xn--p1ai"),
            ("bob@xn--bcher-kva.example", "bob@xn--bcher-kva.example"),
        ] {
            assert_eq!(Email::parse(raw)?.as_str(), stored, "{raw}");
        }
        // The stored form parses to itself: what is read back is what was written.
        let email = Email::parse("bob@bücher.example")?;
        assert_eq!(Email::parse(email.as_str())?, email);
        Ok(())
    }

    #[test]
    fn a_non_ascii_local_part_is_refused_saying_why() {
        for raw in ["jöran@example.com", "用户@例子.广告", "ñ@example.com"] {
            match Email::parse(raw) {
                Err(DomainError::Invalid(detail)) => {
                    assert!(detail.contains("plain ASCII"), "{raw}: {detail}")
                }
                other => panic!("{raw} should be refused, got {other:?}"),
            }
        }
    }

    #[test]
    fn invisible_and_direction_changing_characters_are_refused() {
        for raw in [
            "bob\u{200B}@example.com",
            "bob@exam\u{200B}ple.com",
            "\u{202E}moc.elpmaxe@bob",
            "bob@example.com\u{202E}",
            "b\u{00AD}ob@example.com",
            "bob@ex\u{00AD}ample.com",
            "\u{FEFF}bob@example.com",
            "bob\u{2060}@example.com",
            "bob\u{2028}x@example.com",
        ] {
            match Email::parse(raw) {
                Err(DomainError::Invalid(detail)) => {
                    assert!(detail.contains("invisible"), "{raw:?}: {detail}")
                }
                other => panic!("{raw:?} should be refused, got {other:?}"),
            }
        }
    }
}
