//! Paginated lists: `?limit=` and an opaque cursor.
//!
//! A cursor is the last key a page read, with the list and organization it belongs to, in
//! base64url JSON. It is not secret: every position it can name is in a list the caller may read
//! anyway. What matters is that a cursor made for another list, another organization or by hand
//! never reaches DynamoDB: it is refused with a 400 before any read. Pages follow key order, so an
//! item that exists throughout a listing is on exactly one page, whatever joins or leaves meanwhile.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::items::Item;
use crate::domain::{DomainError, OrgId};

/// Items per page unless `?limit=` says otherwise, and the most it may say.
pub const DEFAULT_LIMIT: u16 = 50;
pub const MAX_LIMIT: u16 = 100;

/// One page's size and where it starts, as the client asked.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

/// What a list answers: the items and, unless this was the last page, the cursor of the next.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), next_cursor: self.next_cursor }
    }
}

#[derive(Serialize, Deserialize)]
struct Token {
    /// Which list.
    l: String,
    o: OrgId,
    /// The last key read: attribute name to string value.
    k: BTreeMap<String, String>,
}

/// A validated page request for one list of one organization.
pub(super) struct Position {
    pub limit: i32,
    pub start: Option<Item>,
}

/// Checks `limit` (1 to 100) and decodes `cursor`, which must have been made for `list` of `org`
/// with exactly the key attributes `attrs`, whose values `valid` accepts.
pub(super) fn position(
    request: &PageRequest,
    list: &str,
    org: &OrgId,
    attrs: &[&str],
    valid: impl Fn(&str, &str) -> bool,
) -> Result<Position, DomainError> {
    let limit = match &request.limit {
        None => DEFAULT_LIMIT,
        Some(raw) => raw.parse::<u16>().ok().filter(|n| (1..=MAX_LIMIT).contains(n)).ok_or_else(|| {
            DomainError::Invalid(format!("limit must be a whole number from 1 to {MAX_LIMIT}"))
        })?,
    };
    let start = match &request.cursor {
        None => None,
        Some(raw) => {
            let refused = || DomainError::Invalid("this cursor does not belong to this list".into());
            let bytes = URL_SAFE_NO_PAD.decode(raw.as_bytes()).map_err(|_| refused())?;
            let token: Token = serde_json::from_slice(&bytes).map_err(|_| refused())?;
            let names: Vec<&str> = token.k.keys().map(String::as_str).collect();
            let mut expected = attrs.to_vec();
            expected.sort_unstable();
            if token.l != list || &token.o != org || names != expected {
                return Err(refused());
            }
            if !token.k.iter().all(|(name, value)| valid(name, value)) {
                return Err(refused());
            }
            Some(token.k.into_iter().map(|(k, v)| (k, AttributeValue::S(v))).collect::<HashMap<_, _>>())
        }
    };
    Ok(Position { limit: i32::from(limit), start })
}

/// The cursor of the page after the one that ended at `last`.
pub(super) fn cursor(list: &str, org: &OrgId, last: Option<Item>) -> Result<Option<String>, DomainError> {
    let Some(last) = last else { return Ok(None) };
    let mut k = BTreeMap::new();
    for (name, value) in last {
        let value = value
            .as_s()
            .map_err(|_| DomainError::Corrupt(format!("key attribute {name} is not a string")))?
            .clone();
        k.insert(name, value);
    }
    let token = Token { l: list.to_owned(), o: *org, k };
    let json = serde_json::to_vec(&token).map_err(|e| DomainError::Corrupt(format!("cursor: {e}")))?;
    Ok(Some(URL_SAFE_NO_PAD.encode(json)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::UserId;
    use crate::store::{keys, schema};

    fn request(limit: Option<&str>, cursor: Option<String>) -> PageRequest {
        PageRequest { limit: limit.map(str::to_owned), cursor }
    }

    fn any(_: &str, _: &str) -> bool {
        true
    }

    #[test]
    fn limits_are_one_to_a_hundred() {
        let org = OrgId::new();
        for ok in ["1", "50", "100"] {
            assert!(position(&request(Some(ok), None), "members", &org, &["pk"], any).is_ok());
        }
        for bad in ["0", "101", "-1", "ten", "", "1e2"] {
            assert!(
                matches!(
                    position(&request(Some(bad), None), "members", &org, &["pk"], any),
                    Err(DomainError::Invalid(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_cursor_works_only_for_its_own_list_and_organization() -> Result<(), DomainError> {
        let org = OrgId::new();
        let last = Item::from([
            (schema::PK.to_owned(), AttributeValue::S(keys::org_pk(&org))),
            (schema::SK.to_owned(), AttributeValue::S(keys::member_sk(&UserId::parse("bob")?))),
        ]);
        let made = cursor("members", &org, Some(last.clone()))?;
        let ok = position(&request(None, made.clone()), "members", &org, &["pk", "sk"], any)?;
        assert_eq!(ok.start, Some(last));
        let refused = |r: Result<Position, DomainError>| matches!(r, Err(DomainError::Invalid(_)));
        assert!(refused(position(&request(None, made.clone()), "events", &org, &["pk", "sk"], any)));
        assert!(refused(position(
            &request(None, made.clone()),
            "members",
            &OrgId::new(),
            &["pk", "sk"],
            any
        )));
        assert!(refused(position(&request(None, made.clone()), "members", &org, &["pk", "sk"], |_, _| {
            false
        })));
        assert!(refused(position(&request(None, made), "members", &org, &["pk", "sk", "gsi2pk"], any)));
        for tampered in ["", "!!!", "e30", "bm90IGpzb24"] {
            assert!(
                refused(position(&request(None, Some(tampered.into())), "members", &org, &["pk"], any)),
                "{tampered}"
            );
        }
        Ok(())
    }
}
