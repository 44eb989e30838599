//! The OpenAPI 3.1 document of the HTTP API, built from the wire types' own schemas (`utoipa`
//! derives them from the Rust types the functions serialize) and the one list of operations,
//! [`crate::routes::OPERATIONS`]. `GET /v1/openapi.json` serves it.

use std::collections::BTreeSet;

use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem, PathsBuilder,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ComponentsBuilder, KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Ref, RefOr, Required, ResponseBuilder,
    ResponsesBuilder, Schema, ServerBuilder, Tag,
};
use utoipa::{PartialSchema, ToSchema};

use crate::domain::InvitationStatus;
use crate::http::{GatewayMessage, Problem};

type Components = Vec<(String, RefOr<Schema>)>;

/// A schema by reference, registering it (and every schema it names) with the document.
type Schematic = fn(&mut Components) -> RefOr<Schema>;

pub(crate) fn of<T: ToSchema>(components: &mut Components) -> RefOr<Schema> {
    components.push((T::name().into_owned(), T::schema()));
    T::schemas(components);
    Ref::from_schema_name(T::name()).into()
}

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// A signed-in user: the identity provider's JWT as a bearer token.
    User,
    /// A signed-in user, or a service account's API key (`ocak_...`) as the bearer token: what
    /// the key may do is its scopes.
    UserOrKey,
    /// A cluster's agent: its own opaque token as a bearer token.
    Agent,
    /// Anyone.
    Anyone,
}

/// A query parameter.
#[derive(Clone, Copy)]
pub enum Query {
    Limit { max: u32, default: u32 },
    Cursor,
    Status,
    Time { name: &'static str, description: &'static str },
    After,
}

/// What a successful answer holds.
#[derive(Clone, Copy)]
pub enum Answer {
    Json(Schematic),
    /// JSON, or CSV when asked for with `Accept: text/csv`.
    JsonOrCsv(Schematic),
    Empty,
    /// Any JSON object (the document itself).
    Object,
}

/// One operation of the API.
#[derive(Clone, Copy)]
pub struct Operation {
    pub method: &'static str,
    pub path: &'static str,
    /// The Lambda function API Gateway invokes for it.
    pub function: &'static str,
    pub id: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    pub caller: Caller,
    pub query: &'static [Query],
    pub body: Option<Schematic>,
    pub status: u16,
    pub answer: Answer,
    /// The problems the function itself may answer with, beyond those every operation of its
    /// kind may (see [`Operation::statuses`]).
    pub problems: &'static [u16],
    /// Takes an optional `If-Match` (the version the caller read) and answers 412 when it is
    /// no longer current.
    pub if_match: bool,
    /// What it does and answers, beyond the summary (CommonMark).
    pub description: &'static str,
    /// An example request body (JSON): the document shows it, and the generated events send it
    /// with the fields named after a fixture (`email`, `user_id`, `name`) made fresh.
    pub example: Option<&'static str>,
    /// The query string its generated events carry.
    pub example_query: &'static str,
    /// Its function's generated event takes this route (of a function with several).
    pub sampled: bool,
}

pub(crate) const PAGE: &[Query] = &[Query::Limit { max: 100, default: 50 }, Query::Cursor];

pub(crate) const fn op(
    method: &'static str,
    path: &'static str,
    function: &'static str,
    id: &'static str,
    tag: &'static str,
    summary: &'static str,
    caller: Caller,
) -> Operation {
    Operation {
        method,
        path,
        function,
        id,
        tag,
        summary,
        caller,
        query: &[],
        body: None,
        status: 200,
        answer: Answer::Empty,
        problems: &[],
        if_match: false,
        description: "",
        example: None,
        example_query: "",
        sampled: false,
    }
}

impl Operation {
    pub(crate) const fn body(mut self, schema: Schematic) -> Self {
        self.body = Some(schema);
        self
    }

    pub(crate) const fn query(mut self, query: &'static [Query]) -> Self {
        self.query = query;
        self
    }

    pub(crate) const fn answers(mut self, status: u16, answer: Answer) -> Self {
        self.status = status;
        self.answer = answer;
        self
    }

    pub(crate) const fn problems(mut self, problems: &'static [u16]) -> Self {
        self.problems = problems;
        self
    }

    pub(crate) const fn conditional(mut self) -> Self {
        self.if_match = true;
        self
    }

    pub(crate) const fn describe(mut self, description: &'static str) -> Self {
        self.description = description;
        self
    }

    pub(crate) const fn example(mut self, body: &'static str) -> Self {
        self.example = Some(body);
        self
    }

    pub(crate) const fn example_query(mut self, query: &'static str) -> Self {
        self.example_query = query;
        self
    }

    pub(crate) const fn sampled(mut self) -> Self {
        self.sampled = true;
        self
    }

    fn writes(&self) -> bool {
        self.method != "GET"
    }

    /// Every error status this operation may answer with, and what gives it.
    pub fn statuses(&self) -> BTreeSet<u16> {
        let mut statuses: BTreeSet<u16> = self.problems.iter().copied().collect();
        // API Gateway throttles every route; a dependency that throttles or fails is a 503, a
        // broken invariant a 500.
        statuses.extend([429, 500, 503]);
        if self.caller != Caller::Anyone {
            statuses.insert(401);
        }
        if self.path.contains('{') {
            // Unknown ids, and organizations the caller is not a member of.
            statuses.insert(404);
        }
        if !self.query.is_empty() {
            statuses.insert(400);
        }
        if self.body.is_some() {
            statuses.extend([400, 413, 415]);
        }
        if self.writes() {
            // A state that refuses the change, or a write that lost a race.
            statuses.insert(409);
        }
        if self.if_match {
            statuses.insert(412);
        }
        statuses
    }
}

fn problem_description(status: u16) -> &'static str {
    match status {
        400 => "The request is malformed; `detail` says where.",
        401 => "No valid token.",
        402 => "The organization has no credits left; `balance` says how many.",
        403 => "The caller's role or the organization's permissions do not allow it.",
        404 => "No such thing, or the caller is not a member.",
        409 => {
            "The state refuses it (already a member, answered, the cluster's state...), or it lost a race."
        }
        410 => "The invitation expired.",
        412 => "`If-Match` names a version that is no longer current: read again, then decide.",
        413 => "The body is over 64 KiB.",
        415 => "The body is not application/json.",
        422 => "The cloud refused the role; `detail` names its error code.",
        429 => "Too many requests: a rate limit (with `Retry-After`) or API Gateway's throttle.",
        500 => "An internal error; report the `request_id`.",
        503 => "A dependency is unavailable; retry after `Retry-After`.",
        _ => "A problem.",
    }
}

/// Statuses API Gateway itself may answer with, as `{"message": ...}` rather than a problem.
fn from_gateway(status: u16) -> bool {
    matches!(status, 401 | 413 | 429 | 500 | 503)
}

fn query_parameter(query: Query, components: &mut Components) -> utoipa::openapi::path::Parameter {
    let (name, description, schema): (&str, &str, RefOr<Schema>) = match query {
        Query::Limit { max, default } => (
            "limit",
            "Items per page.",
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1))
                .maximum(Some(max))
                .default(Some(default.into()))
                .into(),
        ),
        Query::Cursor => (
            "cursor",
            "The previous page's `next_cursor`.",
            ObjectBuilder::new().schema_type(Type::String).min_length(Some(1)).into(),
        ),
        Query::Status => ("status", "Only invitations in this status.", of::<InvitationStatus>(components)),
        Query::Time { name, description } => (name, description, of::<crate::domain::Timestamp>(components)),
        Query::After => (
            "after",
            "The revision the agent applied last (0 at first).",
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0))
                .maximum(Some(i64::MAX))
                .default(Some(0.into()))
                .into(),
        ),
    };
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(schema))
        .build()
}

fn path_parameter(name: &str) -> utoipa::openapi::path::Parameter {
    let schema: RefOr<Schema> = match name {
        "org_id" | "invitation_id" | "cluster_id" => ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
            .into(),
        "port" => ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("A TCP port, 1 to 65535, in digits."))
            .pattern(Some(crate::domain::PORT_PATTERN))
            .into(),
        "user_id" => crate::domain::UserId::schema(),
        "webhook_id" => crate::domain::WebhookId::schema(),
        "delivery_id" => ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("A delivery's id as listed: 40 digits."))
            .pattern(Some("^[0-9]{40}$"))
            .into(),
        "key_id" => ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("The key's id as listed: its SHA-256 fingerprint's digest in base64url."))
            .pattern(Some("^[A-Za-z0-9_-]{43}$"))
            .into(),
        _ => ObjectBuilder::new().schema_type(Type::String).into(),
    };
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .schema(Some(schema))
        .build()
}

fn path_parameters(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
}

fn method(name: &str) -> HttpMethod {
    match name {
        "POST" => HttpMethod::Post,
        "PUT" => HttpMethod::Put,
        "PATCH" => HttpMethod::Patch,
        "DELETE" => HttpMethod::Delete,
        _ => HttpMethod::Get,
    }
}

/// `problem` and `gateway`: the references to [`Problem`] and [`GatewayMessage`].
fn operation(
    op: &Operation,
    components: &mut Components,
    problem: &RefOr<Schema>,
    gateway: &RefOr<Schema>,
) -> utoipa::openapi::path::Operation {
    let mut builder = OperationBuilder::new().operation_id(Some(op.id)).summary(Some(op.summary)).tag(op.tag);
    if !op.description.is_empty() {
        builder = builder.description(Some(op.description));
    }
    for name in path_parameters(op.path) {
        builder = builder.parameter(path_parameter(name));
    }
    for query in op.query {
        builder = builder.parameter(query_parameter(*query, components));
    }
    if op.if_match {
        builder = builder.parameter(
            ParameterBuilder::new()
                .name("If-Match")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some("The version read (`settings_version`, the `ETag` of the organization)."))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .build(),
        );
    }
    if let Some(body) = op.body {
        builder = builder.request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(Required::True))
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(body(components)))
                        .example(op.example.map(|text| {
                            serde_json::from_str(text)
                                .expect("an operation's example is JSON (a test parses each)")
                        }))
                        .build(),
                )
                .build(),
        ));
    }
    builder = match op.caller {
        Caller::User => builder.security(SecurityRequirement::new("user", Vec::<String>::new())),
        Caller::UserOrKey => builder
            .security(SecurityRequirement::new("user", Vec::<String>::new()))
            .security(SecurityRequirement::new("apiKey", Vec::<String>::new())),
        Caller::Agent => builder.security(SecurityRequirement::new("agent", Vec::<String>::new())),
        Caller::Anyone => builder,
    };
    let success = match op.answer {
        Answer::Json(schema) => ResponseBuilder::new()
            .description("Done.")
            .content("application/json", ContentBuilder::new().schema(Some(schema(components))).build()),
        Answer::JsonOrCsv(schema) => ResponseBuilder::new()
            .description("Done: JSON, or CSV with `Accept: text/csv`.")
            .content("application/json", ContentBuilder::new().schema(Some(schema(components))).build())
            .content(
                "text/csv",
                ContentBuilder::new().schema(Some(ObjectBuilder::new().schema_type(Type::String))).build(),
            ),
        Answer::Empty => ResponseBuilder::new().description("Done, nothing to say."),
        Answer::Object => ResponseBuilder::new().description("Done.").content(
            "application/json",
            ContentBuilder::new().schema(Some(ObjectBuilder::new().schema_type(Type::Object))).build(),
        ),
    };
    let mut responses = ResponsesBuilder::new().response(op.status.to_string(), success.build());
    for status in op.statuses() {
        let mut response = ResponseBuilder::new()
            .description(problem_description(status))
            .content("application/problem+json", ContentBuilder::new().schema(Some(problem.clone())).build());
        if from_gateway(status) {
            response = response
                .content("application/json", ContentBuilder::new().schema(Some(gateway.clone())).build());
        }
        responses = responses.response(status.to_string(), response.build());
    }
    builder.responses(responses.build()).build()
}

/// The whole document.
pub fn document() -> OpenApi {
    let mut components: Components = Vec::new();
    let mut paths = PathsBuilder::new();
    let problem = of::<Problem>(&mut components);
    let gateway = of::<GatewayMessage>(&mut components);
    // What webhook endpoints receive: no operation answers it, so it is named here.
    of::<crate::domain::webhooks::WebhookPayload>(&mut components);
    for op in crate::routes::OPERATIONS {
        let operation = operation(op, &mut components, &problem, &gateway);
        paths = paths.path(op.path, PathItem::new(method(op.method), operation));
    }
    let mut schemas = ComponentsBuilder::new()
        .security_scheme(
            "user",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("The identity provider's ID or access token (Cognito)."))
                    .build(),
            ),
        )
        .security_scheme(
            "agent",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A cluster node's credential (`ocn_...`), from its enrollment with its instance identity document.",
                    ))
                    .build(),
            ),
        )
        .security_scheme(
            "apiKey",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("ocak_")
                    .description(Some(
                        "A service account's API key: `ocak_` + 12 characters of key id + 32 random + 6 of \
                         CRC32, all base62. Made by an owner or admin with scopes (actions of the \
                         authorization table) and an expiry; shown once. Accepted by the operations \
                         that list `apiKey` among their security requirements; a key whose scopes lack \
                         the operation's action gets 403, an unknown, revoked or expired key 401.",
                    ))
                    .build(),
            ),
        );
    components.sort_by(|a, b| a.0.cmp(&b.0));
    components.dedup_by(|a, b| a.0 == b.0);
    for (name, schema) in components {
        schemas = schemas.schema(name, schema);
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Organizations")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Organizations, members and invitations of the managed cluster platform, the shared cloud \
                     account, clusters, credits and managed cluster users. Every error is \
                     application/problem+json (RFC 9457), except those API Gateway answers itself.",
                ))
                .build(),
        )
        .servers(Some([ServerBuilder::new().url("/").build()]))
        .paths(paths.build())
        .components(Some(schemas.build()))
        .tags(Some(
            ["dashboard", "organizations", "members", "invitations", "audit", "usage", "cloud", "clusters", "cluster users", "service accounts", "webhooks", "agent", "contract"]
                .map(Tag::new),
        ))
        .build()
}

/// The document as JSON text, as served: built once per process (at `get-openapi`'s init, about
/// as long as the SDK's setup in the other functions), and an error rather than an empty
/// document if it cannot be.
pub fn json() -> Result<&'static str, serde_json::Error> {
    static JSON: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if let Some(text) = JSON.get() {
        return Ok(text);
    }
    // Written straight from the document (utoipa has no `webhooks` field, so it is flattened
    // beside it), not through a `serde_json::Value` of the whole: that copy was most of the time.
    #[derive(serde::Serialize)]
    struct Served {
        #[serde(flatten)]
        document: OpenApi,
        webhooks: serde_json::Value,
    }
    let text = serde_json::to_string(&Served { document: document(), webhooks: webhooks() })?;
    Ok(JSON.get_or_init(|| text))
}

/// OpenAPI 3.1's `webhooks`: what the service sends to an endpoint (utoipa has no builder for
/// them, so the object is written here).
fn webhooks() -> serde_json::Value {
    let header = |name: &str, description: &str| serde_json::json!({ "name": name, "in": "header", "required": true, "description": description, "schema": { "type": "string" } });
    serde_json::json!({
        "event": {
            "post": {
                "summary": "An event an endpoint asked for (see createWebhook).",
                "description": "Delivered at least once, in order per endpoint; 2xx acknowledges it, anything else (redirects included) is tried again with backoff for 24 hours.",
                "parameters": [
                    header("Orgs-Event-Id", "The event's id: the same in every attempt and redelivery."),
                    header("Orgs-Delivery-Id", "The delivery's id in the endpoint's log."),
                    header("Orgs-Delivery-Attempt", "1 for the first attempt, then 2, 3..."),
                    header("Orgs-Timestamp", "Unix seconds when this attempt was signed: refuse one more than 5 minutes old."),
                    header("Orgs-Signature", "`v1=` and the hex HMAC-SHA256, under the endpoint's secret, of `{Orgs-Timestamp}.{body}`."),
                ],
                "requestBody": {
                    "required": true,
                    "content": { "application/json": { "schema": { "$ref": "#/components/schemas/WebhookPayload" } } }
                },
                "responses": { "2XX": { "description": "Received." } }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::routes::{OPERATIONS, ROUTES};

    #[test]
    fn the_served_document_describes_what_webhook_endpoints_receive() {
        let served: serde_json::Value = serde_json::from_str(json().expect("document")).expect("JSON");
        let body =
            &served["webhooks"]["event"]["post"]["requestBody"]["content"]["application/json"]["schema"];
        assert_eq!(body["$ref"], "#/components/schemas/WebhookPayload");
        let payload = &served["components"]["schemas"]["WebhookPayload"];
        for field in ["id", "type", "created_at", "organization_id", "data"] {
            assert!(payload["properties"].get(field).is_some(), "{field}: {payload}");
        }
        let headers: Vec<&str> = served["webhooks"]["event"]["post"]["parameters"]
            .as_array()
            .expect("headers")
            .iter()
            .filter_map(|h| h["name"].as_str())
            .collect();
        assert!(headers.contains(&"Orgs-Signature") && headers.contains(&"Orgs-Timestamp"), "{headers:?}");
    }

    #[test]
    fn the_document_describes_exactly_the_route_table() {
        let routes: BTreeSet<(&str, &str)> = ROUTES.iter().map(|r| (r.method, r.path)).collect();
        let described: BTreeSet<(&str, &str)> = OPERATIONS.iter().map(|o| (o.method, o.path)).collect();
        let missing: Vec<_> = routes.difference(&described).collect();
        let extra: Vec<_> = described.difference(&routes).collect();
        assert!(missing.is_empty(), "routes the OpenAPI document does not describe: {missing:?}");
        assert!(extra.is_empty(), "operations the route table does not route: {extra:?}");
        assert_eq!(described.len(), OPERATIONS.len(), "an operation is described twice");

        let document = serde_json::to_value(document()).expect("the document serializes");
        assert_eq!(document["openapi"], "3.1.0");
        let paths = document["paths"].as_object().expect("paths");
        let in_document: BTreeSet<(String, String)> = paths
            .iter()
            .flat_map(|(path, item)| {
                item.as_object()
                    .into_iter()
                    .flat_map(|m| m.keys())
                    .filter(|k| ["get", "post", "put", "patch", "delete"].contains(&k.as_str()))
                    .map(move |m| (m.to_ascii_uppercase(), path.clone()))
            })
            .collect();
        let wanted: BTreeSet<(String, String)> =
            routes.iter().map(|(m, p)| ((*m).to_owned(), (*p).to_owned())).collect();
        assert_eq!(in_document, wanted);
    }

    #[test]
    fn every_reference_names_a_schema_of_the_document() {
        let text = json().expect("the document serializes");
        let document: serde_json::Value = serde_json::from_str(text).expect("JSON");
        let schemas = document["components"]["schemas"].as_object().expect("schemas");
        let mut dangling = Vec::new();
        for piece in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = piece.split('"').next().unwrap_or_default();
            if !schemas.contains_key(name) {
                dangling.push(name.to_owned());
            }
        }
        assert!(dangling.is_empty(), "references to no schema: {dangling:?}");
        assert!(schemas.len() > 30, "only {} schemas", schemas.len());
    }

    #[test]
    fn operation_ids_are_unique_and_every_path_parameter_is_declared() {
        let ids: BTreeSet<&str> = OPERATIONS.iter().map(|o| o.id).collect();
        assert_eq!(ids.len(), OPERATIONS.len());
        let document = serde_json::to_value(document()).expect("the document serializes");
        for op in crate::routes::OPERATIONS {
            let declared = &document["paths"][op.path][op.method.to_ascii_lowercase()]["parameters"];
            for name in path_parameters(op.path) {
                let found = declared
                    .as_array()
                    .is_some_and(|ps| ps.iter().any(|p| p["name"] == name && p["in"] == "path"));
                assert!(found, "{} {}: path parameter {name} not declared", op.method, op.path);
            }
        }
    }
}
