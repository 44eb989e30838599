//! Creates the service's table on the emulator, from the definition `infra/template.yaml` declares
//! (the `definition_matches_the_template` test keeps the two equal).

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification,
};
use orgs::store::schema;

/// The table as the service needs it: keys, the GSIs, the stream and TTL.
pub struct TableDefinition {
    pub key_schema: Vec<(&'static str, KeyType)>,
    pub attributes: Vec<&'static str>,
    pub gsis: Vec<(&'static str, &'static str, &'static str)>,
    pub stream_view: StreamViewType,
    pub ttl_attribute: &'static str,
}

pub fn definition() -> TableDefinition {
    TableDefinition {
        key_schema: vec![(schema::PK, KeyType::Hash), (schema::SK, KeyType::Range)],
        attributes: vec![
            schema::PK,
            schema::SK,
            schema::GSI1_PK,
            schema::GSI1_SK,
            schema::GSI2_PK,
            schema::GSI2_SK,
        ],
        gsis: vec![
            (schema::GSI1, schema::GSI1_PK, schema::GSI1_SK),
            (schema::GSI2, schema::GSI2_PK, schema::GSI2_SK),
        ],
        stream_view: StreamViewType::NewAndOldImages,
        ttl_attribute: schema::TTL,
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn key(name: &str, kind: KeyType) -> Result<KeySchemaElement, BoxError> {
    Ok(KeySchemaElement::builder().attribute_name(name).key_type(kind).build()?)
}

/// Creates `name` and returns its stream ARN. An existing table is kept (the dev stack restarts).
pub async fn create(client: &Client, name: &str) -> Result<String, BoxError> {
    if let Ok(existing) = client.describe_table().table_name(name).send().await
        && let Some(arn) = existing.table.and_then(|t| t.latest_stream_arn)
    {
        return Ok(arn);
    }
    let def = definition();
    let mut request =
        client.create_table().table_name(name).billing_mode(BillingMode::PayPerRequest).stream_specification(
            StreamSpecification::builder().stream_enabled(true).stream_view_type(def.stream_view).build()?,
        );
    for (attr, kind) in def.key_schema {
        request = request.key_schema(key(attr, kind)?);
    }
    for attr in def.attributes {
        request = request.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(attr)
                .attribute_type(ScalarAttributeType::S)
                .build()?,
        );
    }
    for (index, pk, sk) in def.gsis {
        request = request.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(index)
                .key_schema(key(pk, KeyType::Hash)?)
                .key_schema(key(sk, KeyType::Range)?)
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()?,
        );
    }
    let created = request.send().await?;
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder().enabled(true).attribute_name(def.ttl_attribute).build()?,
        )
        .send()
        .await?;
    created
        .table_description
        .and_then(|t| t.latest_stream_arn)
        .ok_or_else(|| "the created table has no stream".into())
}

/// The keys of stored items, spelled by the store, for the tests that damage, remove or rewrite
/// one item on purpose (and for sample events). Nothing else in the tests writes the table.
pub mod key {
    use std::collections::HashMap;

    use aws_sdk_dynamodb::types::AttributeValue;
    use orgs::domain::{ClusterId, InvitationId, OrgId, UserId};
    use orgs::store::{keys, schema};

    pub type Key = HashMap<String, AttributeValue>;

    fn key(pk: String, sk: &str) -> Key {
        HashMap::from([
            (schema::PK.to_owned(), AttributeValue::S(pk)),
            (schema::SK.to_owned(), AttributeValue::S(sk.to_owned())),
        ])
    }

    pub fn organization(org: &OrgId) -> Key {
        key(keys::org_pk(org), keys::ORG_SK)
    }

    pub fn membership(org: &OrgId, user: &UserId) -> Key {
        key(keys::org_pk(org), &keys::member_sk(user))
    }

    pub fn cluster(org: &OrgId, cluster: &ClusterId) -> Key {
        key(keys::org_pk(org), &keys::cluster_sk(cluster))
    }

    pub fn invitation(id: &InvitationId) -> Key {
        key(keys::invitation_pk(id), keys::INVITATION_SK)
    }
}
