//! An organization's settings: what plain members may do, and how long invitations last. The
//! owner and admins change them; `authz` reads them.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::Duration;

use super::DomainError;

/// How many days an invitation can be answered: 1 to 30.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "super::whole::Whole", into = "u32")]
pub struct TtlDays(u8);

impl TtlDays {
    pub const DEFAULT: TtlDays = TtlDays(7);

    pub fn duration(self) -> Duration {
        Duration::days(i64::from(self.0))
    }
}

impl TryFrom<super::whole::Whole> for TtlDays {
    type Error = DomainError;
    fn try_from(days: super::whole::Whole) -> Result<Self, Self::Error> {
        u32::try_from(days.0)
            .map_err(|_| DomainError::Invalid(format!("invitation_ttl_days must be 1 to 30, not {}", days.0)))
            .and_then(Self::try_from)
    }
}

impl TryFrom<u32> for TtlDays {
    type Error = DomainError;
    fn try_from(days: u32) -> Result<Self, Self::Error> {
        match u8::try_from(days) {
            Ok(d @ 1..=30) => Ok(Self(d)),
            _ => Err(DomainError::Invalid(format!("invitation_ttl_days must be 1 to 30, not {days}"))),
        }
    }
}

impl From<TtlDays> for u32 {
    fn from(value: TtlDays) -> Self {
        u32::from(value.0)
    }
}

/// The permissions and settings document of `GET`/`PUT .../permissions`, stored on the
/// organization. Every field is required in a `PUT`: it replaces the whole document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Plain members may invite, and only with role `member`.
    pub members_can_invite: bool,
    /// Plain members may create and terminate clusters (every member may start and stop them).
    pub members_can_manage_clusters: bool,
    /// Plain members may open and close service ports.
    pub members_can_open_ports: bool,
    pub invitation_ttl_days: TtlDays,
    /// The longest an API key of the organization's service accounts may last, in days (1 to
    /// 366; 90 when not given).
    #[serde(default)]
    pub api_key_max_days: super::api_keys::KeyDays,
}

impl Settings {
    /// The version of these settings, as an entity tag (`GET` shows it, `PUT` takes it in
    /// `If-Match`): a digest of the document, so equal settings have equal versions and any
    /// change, by anyone, gives another.
    pub fn version(&self) -> String {
        use sha2::Digest;
        let document = serde_json::to_vec(self).unwrap_or_default();
        let digest = sha2::Sha256::digest(&document);
        digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
    }

    /// Whether an `If-Match` header value names this version (`*` names any; weak tags are
    /// compared by their opaque part, as RFC 9110 allows for `If-Match` on a single resource).
    pub fn matches(&self, if_match: &str) -> bool {
        let version = self.version();
        if_match
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || tag.trim_start_matches("W/").trim_matches('"') == version)
    }
}

impl Default for Settings {
    /// What a new organization starts with: members deploy clusters in the shared account, as the
    /// product always let them, and nothing more.
    fn default() -> Self {
        Self {
            members_can_invite: false,
            members_can_manage_clusters: true,
            members_can_open_ports: false,
            invitation_ttl_days: TtlDays::DEFAULT,
            api_key_max_days: super::api_keys::KeyDays::DEFAULT_MAX,
        }
    }
}

/// A permission a plain member may be given, by the attribute it is stored as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    MembersCanInvite,
    MembersCanManageClusters,
    MembersCanOpenPorts,
}

impl Permission {
    pub const ALL: [Permission; 3] =
        [Permission::MembersCanInvite, Permission::MembersCanManageClusters, Permission::MembersCanOpenPorts];

    /// The field's name in [`Settings`] (and in the stored item).
    pub fn name(self) -> &'static str {
        match self {
            Permission::MembersCanInvite => "members_can_invite",
            Permission::MembersCanManageClusters => "members_can_manage_clusters",
            Permission::MembersCanOpenPorts => "members_can_open_ports",
        }
    }

    pub fn granted_by(self, settings: &Settings) -> bool {
        match self {
            Permission::MembersCanInvite => settings.members_can_invite,
            Permission::MembersCanManageClusters => settings.members_can_manage_clusters,
            Permission::MembersCanOpenPorts => settings.members_can_open_ports,
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An organization's name: 1 to 64 characters after trimming, any script, no control or format
/// characters (which would let a name hide or reorder text on a dashboard).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrgName(String);

impl OrgName {
    pub const MAX_CHARS: usize = 64;

    /// Characters a name may not hold: control, format, separator and private-use characters
    /// would let a name hide or reorder text on a dashboard. (Unassigned code points are let
    /// through: they show as a replacement box, and refusing them would tie names to one
    /// Unicode version.)
    pub fn hidden(c: char) -> bool {
        use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
        c.is_control()
            || matches!(
                c.general_category(),
                GeneralCategory::Format
                    | GeneralCategory::LineSeparator
                    | GeneralCategory::ParagraphSeparator
                    | GeneralCategory::Surrogate
                    | GeneralCategory::PrivateUse
            )
    }

    /// The rule of [`OrgName::parse`] as a regular expression (what the API's schema says):
    /// white space (what `trim` removes) around 1 to 64 characters that are not hidden, the
    /// first and last of them not white space. It is [`OrgName::pattern_from_rules`], kept in
    /// `org_name_pattern.rs` because computing it scans every code point (about 25 ms in a
    /// release build, once per schema that names it, at every cold start of `get-openapi`); a
    /// unit test holds that the two agree.
    pub fn pattern() -> String {
        PATTERN.to_owned()
    }

    /// [`OrgName::pattern`], built from the same predicates as [`OrgName::parse`].
    pub fn pattern_from_rules() -> String {
        let white = char_class(char::is_whitespace);
        let hidden = char_class(Self::hidden);
        let inner = Self::MAX_CHARS - 2;
        format!("^[{white}]*[^{white}{hidden}](?:[^{hidden}]{{0,{inner}}}[^{white}{hidden}])?[{white}]*$")
    }

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let name = raw.trim();
        let count = name.chars().count();
        if count == 0 || count > Self::MAX_CHARS {
            return Err(DomainError::Invalid(format!(
                "an organization's name is 1 to {} characters, not {count}",
                Self::MAX_CHARS
            )));
        }
        if let Some(c) = name.chars().find(|c| Self::hidden(*c)) {
            return Err(DomainError::Invalid(format!(
                "an organization's name may not contain the invisible or control character U+{:04X}",
                u32::from(c)
            )));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

include!("org_name_pattern.rs");

/// The characters `want` holds, as the inside of a regular expression's character class: ranges
/// of literal characters, the class's own syntax escaped.
fn char_class(want: impl Fn(char) -> bool) -> String {
    fn push(class: &mut String, c: char) {
        if matches!(c, '\\' | ']' | '[' | '^' | '-') {
            class.push('\\');
        }
        class.push(c);
    }
    let mut class = String::new();
    let close = |class: &mut String, (from, to): (char, char)| {
        push(class, from);
        if to != from {
            if u32::from(to) > u32::from(from) + 1 {
                class.push('-');
            }
            push(class, to);
        }
    };
    let mut range: Option<(char, char)> = None;
    for c in (0..=0x10FFFF_u32).filter_map(char::from_u32).filter(|c| want(*c)) {
        range = match range {
            Some((from, to)) if u32::from(to) + 1 == u32::from(c) => Some((from, c)),
            Some(done) => {
                close(&mut class, done);
                Some((c, c))
            }
            None => Some((c, c)),
        };
    }
    if let Some(done) = range {
        close(&mut class, done);
    }
    class
}

impl TryFrom<String> for OrgName {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<OrgName> for String {
    fn from(value: OrgName) -> Self {
        value.0
    }
}

impl fmt::Display for OrgName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {

    /// `ORGS_REFRESH_PATTERN=1 cargo test -p orgs --lib pattern` writes it anew (after a change of
    /// the rules or of the Unicode tables).
    #[test]
    fn the_kept_pattern_is_the_rules_pattern() {
        let computed = OrgName::pattern_from_rules();
        if std::env::var_os("ORGS_REFRESH_PATTERN").is_some() {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/domain/org_name_pattern.rs");
            let text = format!(
                "// Written by `ORGS_REFRESH_PATTERN=1 cargo test -p orgs --lib pattern`: OrgName::pattern_from_rules().\n\
                 const PATTERN: &str = {computed:?};\n"
            );
            std::fs::write(path, text).expect("the pattern file");
        }
        assert!(
            OrgName::pattern() == computed,
            "the kept pattern differs from the rules: ORGS_REFRESH_PATTERN=1 cargo test -p orgs --lib pattern"
        );
    }

    use super::*;

    #[test]
    fn invitation_lifetimes_are_one_to_thirty_days() {
        for ok in [1, 7, 30] {
            assert!(TtlDays::try_from(ok).is_ok(), "{ok}");
        }
        for bad in [0, 31, 256, u32::MAX] {
            assert!(TtlDays::try_from(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_settings_document_must_be_whole() {
        let partial = serde_json::from_str::<Settings>(r#"{"members_can_invite": true}"#);
        assert!(partial.is_err());
        let whole = serde_json::from_str::<Settings>(
            r#"{"members_can_invite": true, "members_can_manage_clusters": false,
                "members_can_open_ports": false, "invitation_ttl_days": 3}"#,
        );
        assert!(
            matches!(whole, Ok(s) if s.members_can_invite && s.invitation_ttl_days.duration() == Duration::days(3))
        );
        let too_long = serde_json::from_str::<Settings>(
            r#"{"members_can_invite": true, "members_can_manage_clusters": false,
                "members_can_open_ports": false, "invitation_ttl_days": 31}"#,
        );
        assert!(too_long.is_err_and(|e| e.to_string().contains("1 to 30")));
    }

    #[test]
    fn names_are_trimmed_bounded_and_visible() {
        assert_eq!(OrgName::parse("  Data Team ").ok().map(|n| n.0), Some("Data Team".to_owned()));
        assert!(OrgName::parse("データチーム").is_ok());
        assert!(OrgName::parse(&"é".repeat(64)).is_ok());
        for bad in ["", "   ", &"a".repeat(65), "a\u{202E}b", "a\u{200B}", "a\nb", "a\u{0007}"] {
            assert!(OrgName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_version_names_exactly_one_document() {
        let a = Settings::default();
        let b = Settings { members_can_invite: !a.members_can_invite, ..a };
        assert_eq!(a.version(), Settings::default().version());
        assert_ne!(a.version(), b.version());
        assert!(a.matches(&format!("\"{}\"", a.version())));
        assert!(a.matches(&format!("W/\"{}\", \"x\"", a.version())));
        assert!(a.matches("*"));
        assert!(!a.matches(&format!("\"{}\"", b.version())));
        assert!(!a.matches(""));
    }
}
