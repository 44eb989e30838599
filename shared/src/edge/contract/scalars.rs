//! The schemas of the domain's newtypes. Each is a string or a number on the wire, checked by its
//! own parser; the schema says what the parser accepts, as far as JSON Schema can.

use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{RefOr, Schema};

use crate::domain::api_keys::{KeyDays, KeyId};
use crate::domain::webhooks::{MAX_URL_LEN, WebhookUrl};
use crate::domain::{
    AwsRegion, ClusterId, ClusterName, Credits, Email, ExternalId, InstanceType, InvitationId, OrgId,
    OrgName, RoleArn, ServiceAccountId, Timestamp, TtlDays, UserId, WebhookId,
};

fn string(description: &str) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String).description(Some(description))
}

macro_rules! scalar {
    ($ty:ty, $schema:expr) => {
        impl utoipa::PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                let builder: ObjectBuilder = $schema;
                builder.into()
            }
        }
        impl utoipa::ToSchema for $ty {}
    };
}

scalar!(
    Email,
    string("An email address SES can deliver to: ASCII, the domain in its IDNA (xn--) form.")
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
        .max_length(Some(254))
);
scalar!(
    UserId,
    string("A user's id: the identity provider's subject.").pattern(Some("^[A-Za-z0-9_.:-]{1,128}$"))
);
scalar!(OrgId, string("An organization's id.").format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))));
scalar!(
    InvitationId,
    string("An invitation's id.").format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
);
scalar!(
    ServiceAccountId,
    string("A service account's id.").format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
);
scalar!(
    WebhookId,
    string("A webhook endpoint's id.").format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
);
scalar!(
    WebhookUrl,
    string(
        "Where deliveries go: an https URL without credentials, whose host resolves to public \
         addresses only (checked at registration and at every delivery)."
    )
    .format(Some(SchemaFormat::Custom("uri".into())))
    .pattern(Some("^https://"))
    .max_length(Some(MAX_URL_LEN))
);
scalar!(
    KeyId,
    string("An API key's public id: the 12 characters after `ocak_`.").pattern(Some("^[A-Za-z0-9]{12}$"))
);
scalar!(
    super::ScopeName,
    string("A scope of an API key: an action of the authorization table a key may hold.")
        .enum_values(Some(crate::domain::api_keys::Scopes::all_names()))
);
scalar!(
    KeyDays,
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .description(Some("Days an API key lasts: 1 to 366, at most the organization's api_key_max_days."))
        .minimum(Some(1))
        .maximum(Some(366))
);
scalar!(ClusterId, string("A cluster's id.").format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))));
scalar!(
    Timestamp,
    string("A time in UTC, RFC 3339 with whole seconds.")
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
);
scalar!(
    OrgName,
    string(
        "An organization's name: 1 to 64 characters after trimming white space, any script, no \
         control, format, separator or private-use characters."
    )
    .pattern(Some(OrgName::pattern()))
);
scalar!(
    TtlDays,
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .description(Some("Days an invitation can be answered."))
        .minimum(Some(1))
        .maximum(Some(30))
);
scalar!(
    ClusterName,
    string("A cluster's name: 1 to 63 lowercase letters, digits and hyphens, starting with a letter.")
        .pattern(Some("^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$"))
);
scalar!(
    InstanceType,
    string("An EC2 instance type such as m5.xlarge.")
        .pattern(Some("^[a-z0-9-]+\\.[a-z0-9]+$"))
        .max_length(Some(32))
);
scalar!(
    RoleArn,
    string("The ARN of an IAM role in the customer's account: a path of up to 512 characters, its last part 1 to 64.")
        .pattern(Some("^arn:aws:iam::[0-9]{12}:role/(?:[A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]{1,64}$"))
        .max_length(Some(31 + 512))
);
scalar!(
    AwsRegion,
    string("An AWS region such as eu-west-1.")
        .pattern(Some("^[a-z]{2}(?:-[a-z]+)+-[0-9]$"))
        .max_length(Some(AwsRegion::MAX_LEN))
);
scalar!(ExternalId, string("The external id the role's trust policy must require."));
scalar!(
    Credits,
    ObjectBuilder::new().schema_type(Type::Number).description(Some("Credits, exact to the thousandth."))
);
