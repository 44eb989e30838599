//! The table's stream, decoded by the store: what a record says changed, in domain terms. The
//! consumers decide on a [`Change`]; none of them reads an image's attributes by name.
//!
//! Only what the consumers act on is decoded: the kind of item, its ids, and which of the watched
//! attributes differ between the images. Everything else in an image is left alone, so a damaged
//! attribute elsewhere in an item never stops the stream.

use aws_lambda_events::dynamodb::EventRecord;
use serde_dynamo::{AttributeValue, Item};

use super::items::Entity;
use crate::domain::webhooks::{EventType, WebhookEvent};
use crate::domain::{ClusterId, DomainError, InvitationId, OrgId, Timestamp, UserId};

/// The item kinds the stream's consumers follow; the template's stream filters name these and no
/// others (a template test holds that).
pub const FOLLOWED: [Entity; 5] =
    [Entity::Org, Entity::Member, Entity::Cluster, Entity::Invitation, Entity::SshKeys];

/// How the item changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Insert,
    Modify,
    Remove,
}

/// What one stream record says changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// An organization was written; `renamed` when a modification changed its name.
    Org { org: OrgId, renamed: bool },
    /// A membership appeared, went, or was modified (`role_changed` when its role differs).
    Member { kind: Kind, org: OrgId, user: UserId, role_changed: bool },
    /// A cluster was written (a removal is [`Change::Other`]: nothing follows one).
    Cluster {
        kind: Kind,
        org: OrgId,
        cluster: ClusterId,
        /// Its users are managed by the service.
        managed_users: bool,
        /// Its state differs from the old image's (always, for a new cluster).
        state_changed: bool,
        /// A modification changed its open ports.
        ports_changed: bool,
    },
    /// An invitation was written; `resent` when a modification raised its send count.
    Invitation { kind: Kind, id: InvitationId, resent: bool },
    /// A person's SSH keys were written.
    SshKeys { user: UserId },
    /// Anything the consumers do not follow.
    Other,
}

/// Decodes one record. A followed item whose ids do not parse is corrupt: the record fails.
pub fn decode(record: &EventRecord) -> Result<Change, DomainError> {
    let (new, old) = (&record.change.new_image, &record.change.old_image);
    let kind = match record.event_name.as_str() {
        "INSERT" => Kind::Insert,
        "MODIFY" => Kind::Modify,
        "REMOVE" => Kind::Remove,
        _ => return Ok(Change::Other),
    };
    // A removal is described by its old image; everything else by its new one.
    let image = if kind == Kind::Remove { old } else { new };
    let differs = |name: &str| new.get(name) != old.get(name);
    let change = match entity(image) {
        Some(Entity::Org) if kind != Kind::Remove => Change::Org {
            org: id(image, attr::ORG_ID, OrgId::parse)?,
            renamed: kind == Kind::Modify && differs(attr::NAME),
        },
        Some(Entity::Member) => Change::Member {
            kind,
            org: id(image, attr::ORG_ID, OrgId::parse)?,
            user: id(image, attr::USER_ID, UserId::parse)?,
            role_changed: kind == Kind::Modify && differs(attr::ROLE),
        },
        Some(Entity::Cluster) if kind != Kind::Remove => Change::Cluster {
            kind,
            org: id(image, attr::ORG_ID, OrgId::parse)?,
            cluster: id(image, attr::CLUSTER_ID, ClusterId::parse)?,
            managed_users: text(image, attr::USER_MANAGEMENT) == Some("managed"),
            state_changed: differs(attr::STATE),
            ports_changed: kind == Kind::Modify && differs(attr::OPEN_PORTS),
        },
        Some(Entity::Invitation) if kind != Kind::Remove => Change::Invitation {
            kind,
            id: id(image, attr::INVITATION_ID, InvitationId::parse)?,
            resent: kind == Kind::Modify && differs(attr::SENDS),
        },
        Some(Entity::SshKeys) if kind != Kind::Remove => {
            Change::SshKeys { user: id(image, attr::USER_ID, UserId::parse)? }
        }
        _ => Change::Other,
    };
    Ok(change)
}

/// What a record means to webhook endpoints, if anything: an invitation made, a membership made,
/// removed or given another role, a cluster made or moved to another state.
pub fn webhook_event(record: &EventRecord) -> Result<Option<WebhookEvent>, DomainError> {
    let (new, old) = (&record.change.new_image, &record.change.old_image);
    let kind = match record.event_name.as_str() {
        "INSERT" => Kind::Insert,
        "MODIFY" => Kind::Modify,
        "REMOVE" => Kind::Remove,
        _ => return Ok(None),
    };
    let image = if kind == Kind::Remove { old } else { new };
    let differs = |name: &str| new.get(name) != old.get(name);
    let copy = |data: &mut serde_json::Map<String, serde_json::Value>,
                from: &Item,
                names: &[(&str, &'static str)]| {
        for (attribute, field) in names {
            if let Some(value) = text(from, attribute) {
                data.insert((*field).to_owned(), serde_json::Value::String(value.to_owned()));
            }
        }
    };
    let mut data = serde_json::Map::new();
    let event_type = match (entity(image), kind) {
        (Some(Entity::Invitation), Kind::Insert) => {
            copy(
                &mut data,
                image,
                &[(attr::INVITATION_ID, "invitation_id"), (attr::EMAIL, "email"), (attr::ROLE, "role")],
            );
            EventType::MemberInvited
        }
        (Some(Entity::Member), Kind::Insert | Kind::Remove) => {
            copy(
                &mut data,
                image,
                &[(attr::USER_ID, "user_id"), (attr::EMAIL, "email"), (attr::ROLE, "role")],
            );
            if kind == Kind::Insert { EventType::MemberJoined } else { EventType::MemberRemoved }
        }
        (Some(Entity::Member), Kind::Modify) if differs(attr::ROLE) => {
            copy(
                &mut data,
                image,
                &[(attr::USER_ID, "user_id"), (attr::EMAIL, "email"), (attr::ROLE, "role")],
            );
            copy(&mut data, old, &[(attr::ROLE, "previous_role")]);
            EventType::MemberRoleChanged
        }
        (Some(Entity::Cluster), Kind::Insert) => {
            copy(
                &mut data,
                image,
                &[(attr::CLUSTER_ID, "cluster_id"), (attr::NAME, "name"), (attr::STATE, "state")],
            );
            EventType::ClusterCreated
        }
        (Some(Entity::Cluster), Kind::Modify) if differs(attr::STATE) => {
            copy(
                &mut data,
                image,
                &[(attr::CLUSTER_ID, "cluster_id"), (attr::NAME, "name"), (attr::STATE, "state")],
            );
            copy(&mut data, old, &[(attr::STATE, "previous_state")]);
            EventType::ClusterStateChanged
        }
        _ => return Ok(None),
    };
    let org = id(image, attr::ORG_ID, OrgId::parse)?;
    let sequence = record
        .change
        .sequence_number
        .as_deref()
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && s.len() <= 40)
        .ok_or_else(|| DomainError::Corrupt("a stream record without a sequence number".into()))?;
    let event_id = uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_OID,
        format!("{}#{}", record.event_id, event_type.as_str()).as_bytes(),
    );
    let seconds = record.change.approximate_creation_date_time.timestamp();
    let occurred_at = time::OffsetDateTime::from_unix_timestamp(seconds)
        .map(Timestamp::from_datetime)
        .map_err(|_| DomainError::Corrupt(format!("a stream record of time {seconds}")))?;
    Ok(Some(WebhookEvent {
        org,
        event_type,
        event_id: event_id.to_string(),
        delivery_id: format!("{sequence:0>40}"),
        occurred_at,
        data,
    }))
}

/// The attributes the decoder reads: the item structs' field names.
mod attr {
    pub const EMAIL: &str = "email";
    pub const ORG_ID: &str = "org_id";
    pub const USER_ID: &str = "user_id";
    pub const CLUSTER_ID: &str = "cluster_id";
    pub const INVITATION_ID: &str = "invitation_id";
    pub const NAME: &str = "name";
    pub const ROLE: &str = "role";
    pub const STATE: &str = "state";
    pub const OPEN_PORTS: &str = "open_ports";
    pub const USER_MANAGEMENT: &str = "user_management";
    pub const SENDS: &str = "sends";
}

fn text<'a>(image: &'a Item, name: &str) -> Option<&'a str> {
    match image.get(name) {
        Some(AttributeValue::S(s)) => Some(s.as_str()),
        _ => None,
    }
}

fn entity(image: &Item) -> Option<Entity> {
    let name = text(image, super::schema::ENTITY)?;
    Entity::ALL.into_iter().find(|e| e.as_str() == name)
}

fn id<T>(image: &Item, name: &str, parse: fn(&str) -> Result<T, DomainError>) -> Result<T, DomainError> {
    let raw =
        text(image, name).ok_or_else(|| DomainError::Corrupt(format!("a stream record without {name}")))?;
    parse(raw).map_err(|_| DomainError::Corrupt(format!("a stream record with a bad {name}: {raw:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Email, Role, Timestamp};
    use crate::store::items;

    fn record(event: &str, new: Option<Item>, old: Option<Item>) -> EventRecord {
        let mut r = EventRecord::default();
        r.event_name = event.to_owned();
        r.change.new_image = new.unwrap_or_default();
        r.change.old_image = old.unwrap_or_default();
        r
    }

    fn with(mut item: Item, name: &str, value: &str) -> Item {
        item.insert(name.to_owned(), AttributeValue::S(value.to_owned()));
        item
    }

    fn member(org: &OrgId, role: Role) -> Item {
        let m = crate::domain::Membership {
            org_id: *org,
            org_name: "Acme".into(),
            user_id: UserId::parse("bob").expect("id"),
            email: Email::parse("bob@example.com").expect("email"),
            role,
            joined_at: Timestamp::from_datetime(time::macros::datetime!(2026-11-28 12:00 UTC)),
            key: None,
        };
        serde_dynamo::to_item(items::MemberItem::from(&m)).expect("item")
    }

    #[test]
    fn a_role_change_is_a_member_change_and_a_no_op_is_not() -> Result<(), DomainError> {
        let org = OrgId::new();
        let (admin, member_) = (member(&org, Role::Admin), member(&org, Role::Member));
        let changed = decode(&record("MODIFY", Some(admin.clone()), Some(member_.clone())))?;
        assert!(
            matches!(changed, Change::Member { kind: Kind::Modify, role_changed: true, .. }),
            "{changed:?}"
        );
        let same = decode(&record("MODIFY", Some(member_.clone()), Some(member_.clone())))?;
        assert!(matches!(same, Change::Member { role_changed: false, .. }), "{same:?}");
        let gone = decode(&record("REMOVE", None, Some(member_)))?;
        assert!(matches!(gone, Change::Member { kind: Kind::Remove, org: o, .. } if o == org), "{gone:?}");
        Ok(())
    }

    #[test]
    fn a_followed_item_with_a_bad_id_is_corrupt_and_the_rest_is_other() -> Result<(), DomainError> {
        let org = OrgId::new();
        let bad = with(member(&org, Role::Member), attr::ORG_ID, "not-an-org");
        assert!(matches!(decode(&record("INSERT", Some(bad), None)), Err(DomainError::Corrupt(_))));
        let slot = with(Item::default(), super::super::schema::ENTITY, "email");
        assert_eq!(decode(&record("INSERT", Some(slot), None))?, Change::Other);
        Ok(())
    }
}
