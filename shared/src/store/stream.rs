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
pub const FOLLOWED: [Entity; 7] = [
    Entity::Org,
    Entity::Member,
    Entity::Cluster,
    Entity::Invitation,
    Entity::SshKeys,
    Entity::Node,
    Entity::Credits,
];

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
/// removed or given another role, a cluster made or moved to another state, a node that applied
/// accounts up to a later revision, credits that fell under a tenth of what was granted.
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
        // A node acknowledged accounts up to a later revision (its heartbeats change nothing here).
        (Some(Entity::Node), Kind::Modify)
            if number(new, attr::APPLIED_REVISION) > number(old, attr::APPLIED_REVISION) =>
        {
            copy(&mut data, image, &[(attr::CLUSTER_ID, "cluster_id"), (attr::INSTANCE_ID, "instance_id")]);
            data.insert("revision".into(), serde_json::Value::from(number(new, attr::APPLIED_REVISION)));
            EventType::ClusterUserApplied
        }
        // The balance fell under a tenth of what was granted.
        (Some(Entity::Credits), Kind::Modify) if low(new) && !low(old) => {
            let (granted, consumed) = (number(new, attr::GRANTED), number(new, attr::CONSUMED));
            data.insert(
                "balance".into(),
                serde_json::json!(crate::domain::Credits::from_millis(granted - consumed)),
            );
            data.insert("granted".into(), serde_json::json!(crate::domain::Credits::from_millis(granted)));
            EventType::CreditsLow
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

/// A number attribute of an image, 0 when absent or not a whole number.
fn number(image: &Item, name: &str) -> i64 {
    match image.get(name) {
        Some(AttributeValue::N(n)) => n.parse().unwrap_or(0),
        _ => 0,
    }
}

/// Whether a credits item's balance is under a tenth of what was granted.
fn low(image: &Item) -> bool {
    let granted = number(image, attr::GRANTED);
    granted > 0 && (granted - number(image, attr::CONSUMED)) * 10 < granted
}

/// The attributes the decoder reads: the item structs' field names.
mod attr {
    pub const APPLIED_REVISION: &str = "applied_revision";
    pub const INSTANCE_ID: &str = "instance_id";
    pub const GRANTED: &str = "granted";
    pub const CONSUMED: &str = "consumed";
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

    fn numbered(mut r: EventRecord, sequence: &str) -> EventRecord {
        r.event_id = "shard-1:record-7".into();
        r.change.sequence_number = Some(sequence.into());
        r
    }

    fn with_number(mut item: Item, name: &str, value: i64) -> Item {
        item.insert(name.to_owned(), AttributeValue::N(value.to_string()));
        item
    }

    #[test]
    fn webhook_events_are_the_changes_endpoints_hear_about_and_nothing_else() -> Result<(), DomainError> {
        let org = OrgId::new();
        let (admin, member_) = (member(&org, Role::Admin), member(&org, Role::Member));
        let changed = numbered(record("MODIFY", Some(admin.clone()), Some(member_.clone())), "4200");
        let event = webhook_event(&changed)?.expect("a role change is an event");
        assert_eq!(event.event_type, EventType::MemberRoleChanged);
        assert_eq!(
            (event.data["role"].as_str(), event.data["previous_role"].as_str()),
            (Some("admin"), Some("member"))
        );
        assert_eq!(event.data["email"], "bob@example.com");
        assert_eq!(event.delivery_id, format!("{:0>40}", "4200"), "ordered by the stream");
        assert_eq!(
            webhook_event(&changed)?.expect("again").event_id,
            event.event_id,
            "stable across redeliveries"
        );
        let same = numbered(record("MODIFY", Some(member_.clone()), Some(member_.clone())), "4201");
        assert_eq!(webhook_event(&same)?, None, "no change, no event");
        let joined = numbered(record("INSERT", Some(member_.clone()), None), "4202");
        assert_eq!(webhook_event(&joined)?.map(|e| e.event_type), Some(EventType::MemberJoined));
        assert!(
            webhook_event(&record("INSERT", Some(member_), None)).is_err(),
            "no sequence number: corrupt"
        );

        let node = |revision: i64| {
            let item = with(
                with(
                    with(Item::default(), super::super::schema::ENTITY, "node"),
                    attr::ORG_ID,
                    &org.to_string(),
                ),
                attr::INSTANCE_ID,
                "i-1",
            );
            with_number(item, attr::APPLIED_REVISION, revision)
        };
        let applied = numbered(record("MODIFY", Some(node(7)), Some(node(5))), "4203");
        let event = webhook_event(&applied)?.expect("applied");
        assert_eq!(
            (event.event_type, event.data["revision"].as_i64()),
            (EventType::ClusterUserApplied, Some(7))
        );
        let heartbeat = numbered(record("MODIFY", Some(node(7)), Some(node(7))), "4204");
        assert_eq!(webhook_event(&heartbeat)?, None, "a heartbeat is not an event");

        let credits = |consumed: i64| {
            let item = with(
                with(Item::default(), super::super::schema::ENTITY, "credits"),
                attr::ORG_ID,
                &org.to_string(),
            );
            with_number(with_number(item, attr::GRANTED, 100_000), attr::CONSUMED, consumed)
        };
        let fell = numbered(record("MODIFY", Some(credits(91_000)), Some(credits(89_000))), "4205");
        assert_eq!(webhook_event(&fell)?.map(|e| e.event_type), Some(EventType::CreditsLow));
        let lower = numbered(record("MODIFY", Some(credits(95_000)), Some(credits(91_000))), "4206");
        assert_eq!(webhook_event(&lower)?, None, "once, when it crosses");
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
