//! The table's shape, as the code relies on it. `infra/template.yaml` declares the same table, the
//! local stack creates it from this definition, and an integration test proves the two agree.

/// Partition key attribute.
pub const PK: &str = "pk";
/// Sort key attribute.
pub const SK: &str = "sk";
/// The first global secondary index: a user's memberships (`USER#id`) and the pending invitations
/// addressed to an email (`EMAIL#address`).
pub const GSI1: &str = "gsi1";
pub const GSI1_PK: &str = "gsi1pk";
pub const GSI1_SK: &str = "gsi1sk";
/// The second global secondary index: an organization's invitations by creation time
/// (`ORG#id#INVITATIONS`), for the invitations list and its status filter.
pub const GSI2: &str = "gsi2";
pub const GSI2_PK: &str = "gsi2pk";
pub const GSI2_SK: &str = "gsi2sk";
/// DynamoDB's TTL attribute (epoch seconds): answered and expired invitations age out.
pub const TTL: &str = "ttl";
/// Names the kind of every item ([`super::Entity`]); the stream filters and the decoder select on it.
pub const ENTITY: &str = "entity";
