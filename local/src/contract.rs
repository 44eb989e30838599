//! The contract test: schemathesis, from the pinned virtualenv, fuzzes every operation of the
//! OpenAPI document the stack serves, with every check on, against a fresh local stack (its own
//! emulator and table) seeded with an organization, a member, a pending invitation, a connected
//! cloud account and a managed cluster, so that the fuzzer reaches the functions' logic rather
//! than their 404s. `cargo xtask test` runs it (`local-stack contract`).

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};

use crate::emulator::{Emulator, workspace_root};
use crate::{Stack, StackOptions};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What one run is bounded by.
pub struct ContractOptions {
    /// The schemathesis executable (in `.venv/bin`).
    pub schemathesis: PathBuf,
    /// Examples per operation and phase.
    pub max_examples: u32,
    /// Hypothesis's seed: fixed by default so that a run can be repeated.
    pub seed: u64,
    /// Where schemathesis writes its report (JUnit XML) and its config.
    pub out_dir: PathBuf,
    /// More schemathesis options (`--include-path-regex ...`, to try one operation).
    pub extra_args: Vec<String>,
}

/// The ids and tokens the fuzzer needs to reach past "not found".
struct Fixtures {
    token: String,
    agent_token: String,
    org_id: String,
    member_id: String,
    invitation_id: String,
    cluster_id: String,
    /// The agent routes' own cluster: the fuzzer revokes the other one's node credentials.
    agent_cluster_id: String,
    /// A key of a service account of Alice's organization, with every scope.
    api_key: String,
    service_account_id: String,
    api_key_id: String,
    webhook_id: String,
    /// A delivery queued for `webhook_id`.
    delivery_id: String,
}

async fn call(
    stack: &Stack,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Result<Value, BoxError> {
    let (status, answer) = stack.call(method, path, token, body).await?;
    if !status.is_success() {
        return Err(format!("setting up the contract test: {path} answered {status}: {answer}").into());
    }
    Ok(answer)
}

fn text(value: &Value, pointer: &str) -> Result<String, BoxError> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("no {pointer} in {value}").into())
}

async fn fixtures(stack: &Stack, sdk: &aws_config::SdkConfig) -> Result<Fixtures, BoxError> {
    let context = stack.event_context(sdk);
    let alice = context.ensure_user(&orgs::domain::Email::parse("alice@contract.example")?).await?;
    let bob = context.ensure_user(&orgs::domain::Email::parse("bob@contract.example")?).await?;
    let token = stack.issuer.token(alice.user_id.as_str(), alice.email.as_str());
    let bob_token = stack.issuer.token(bob.user_id.as_str(), bob.email.as_str());
    let org = alice.personal_org_id.to_string();

    let invited = call(
        stack,
        "POST",
        &format!("/v1/organizations/{org}/invitations"),
        &token,
        Some(json!({ "email": bob.email })),
    )
    .await?;
    call(
        stack,
        "POST",
        &format!("/v1/invitations/{}/accept", text(&invited, "/invitation_id")?),
        &bob_token,
        None,
    )
    .await?;
    let pending = call(
        stack,
        "POST",
        &format!("/v1/organizations/{org}/invitations"),
        &token,
        Some(json!({ "email": "carol@contract.example" })),
    )
    .await?;
    stack.customer_trusts("arn:aws:iam::111122223333:role/orgs-clusters", &org).await?;
    call(
        stack,
        "PUT",
        &format!("/v1/organizations/{org}/cloud-account"),
        &token,
        Some(json!({ "provider": "aws", "role_arn": "arn:aws:iam::111122223333:role/orgs-clusters", "region": "eu-west-1" })),
    )
    .await?;
    let clusters = format!("/v1/organizations/{org}/clusters");
    let spec = |name: &str| json!({ "name": name, "instance_type": "m5.large", "workers": 1, "user_management": "managed" });
    let cluster = call(stack, "POST", &clusters, &token, Some(spec("contract"))).await?;
    let agent_cluster =
        text(&call(stack, "POST", &clusters, &token, Some(spec("agent"))).await?, "/cluster_id")?;
    // The agent routes' credential: the agent cluster's head node, enrolled as its agent would.
    let head =
        stack.running_instances(&org, &agent_cluster, &token, Duration::from_secs(120)).await?.remove(0);
    let nonce = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    let agent_token = stack.enroll_node(&org, &agent_cluster, &head, &nonce).await?;
    let accounts = format!("/v1/organizations/{org}/service-accounts");
    let account = call(stack, "POST", &accounts, &token, Some(json!({ "name": "contract" }))).await?;
    let account_id = text(&account, "/service_account_id")?;
    let keys = format!("{accounts}/{account_id}/keys");
    let scopes = json!(orgs::domain::api_keys::Scopes::all_names());
    let api_key =
        text(&call(stack, "POST", &keys, &token, Some(json!({ "scopes": scopes }))).await?, "/key")?;
    let other = call(stack, "POST", &keys, &token, Some(json!({ "scopes": ["read"] }))).await?;
    let hook = call(
        stack,
        "POST",
        &format!("/v1/organizations/{org}/webhooks"),
        &token,
        Some(json!({ "url": "https://hooks.example.com/contract", "events": ["member.invited"] })),
    )
    .await?;
    let webhook_id = text(&hook, "/webhook_id")?;
    // A delivery as the table's reader queues one (the endpoint's host resolves nowhere here, so
    // it stays pending and can be redelivered).
    let event = orgs::domain::webhooks::WebhookEvent {
        org: orgs::domain::OrgId::parse(&org)?,
        event_type: orgs::domain::webhooks::EventType::MemberInvited,
        event_id: uuid::Uuid::new_v4().to_string(),
        delivery_id: format!("{:040}", 1),
        occurred_at: stack.api.now(),
        data: serde_json::Map::new(),
    };
    stack.api.store.queue_webhook_event(&event).await?;
    Ok(Fixtures {
        webhook_id,
        delivery_id: event.delivery_id,
        token,
        agent_token,
        agent_cluster_id: agent_cluster,
        api_key,
        service_account_id: account_id,
        api_key_id: text(&other, "/key_id")?,
        org_id: org,
        member_id: bob.user_id.to_string(),
        invitation_id: text(&pending, "/invitation_id")?,
        cluster_id: text(&cluster, "/cluster_id")?,
    })
}

/// The schemathesis configuration: every check, the two bearer schemes, and the fixtures as the
/// path parameters' values. Secrets are passed in the environment, not written down.
fn config(options: &ContractOptions) -> String {
    format!(
        r#"# Written by `local-stack contract` for one run.
seed = {seed}
# Speed is measured by `cargo xtask bench`, not asserted here: the response-time check only
# catches a hang. (The emulator serves one request at a time; an ack of 500 records is 500 writes.)
request-timeout = 120
[checks]
max_response_time = 120
[generation]
max-examples = {examples}

[auth.openapi.user]
bearer = "${{ORGS_CONTRACT_USER_TOKEN}}"

[auth.openapi.agent]
bearer = "${{ORGS_CONTRACT_AGENT_TOKEN}}"

[auth.openapi.apiKey]
bearer = "${{ORGS_CONTRACT_API_KEY}}"

[parameters]
"path.org_id" = "${{ORGS_CONTRACT_ORG_ID}}"
"path.user_id" = "${{ORGS_CONTRACT_MEMBER_ID}}"
"path.invitation_id" = "${{ORGS_CONTRACT_INVITATION_ID}}"
"path.cluster_id" = "${{ORGS_CONTRACT_CLUSTER_ID}}"
"path.service_account_id" = "${{ORGS_CONTRACT_SERVICE_ACCOUNT_ID}}"
"path.api_key_id" = "${{ORGS_CONTRACT_API_KEY_ID}}"
"path.webhook_id" = "${{ORGS_CONTRACT_WEBHOOK_ID}}"
"path.delivery_id" = "${{ORGS_CONTRACT_DELIVERY_ID}}"

[[operations]]
include-path-regex = "^/v1/agent/"
parameters = {{ "path.cluster_id" = "${{ORGS_CONTRACT_AGENT_CLUSTER_ID}}" }}

# An opaque cursor the API did not make, and a usage window longer than 366 days, are schema-valid
# and still refused (400): no schema can say what a cursor holds or how far apart two times are.
[[operations]]
include-operation-id-regex = "^(listMembers|listInvitations|listEvents|listClusters|getUsage)$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", 400, 401, 403, 404, 409, 429, "5xx"]

# A schema-valid role ARN names a role that may not exist or may not trust the service: the cloud
# refuses it (422, as AWS would; the emulator enforces trust policies), which no schema can know.
# A role in the service's own account is refused too (400).
[[operations]]
include-operation-id-regex = "^configureCloudAccount$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", 400, 401, 403, 404, 409, 422, 429, "5xx"]

# A schema-valid string is seldom an OpenSSH public key (no schema can say what a key's base64
# holds), and a key id matching its pattern may still be refused: the fuzzer's regular expressions
# let `$` match before a final newline, which the API refuses (400).
[[operations]]
include-operation-id-regex = "^(addSshKey|removeSshKey)$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", 400, 401, 403, 404, 409, 429, "5xx"]

# A schema-valid instance identity document is not one AWS signed for an instance of the cluster:
# enrollment refuses it (401), which no schema can know.
[[operations]]
include-operation-id-regex = "^enrollNode$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", 400, 401, 404, 429, "5xx"]

# A key's lifetime is at most the organization's `api_key_max_days`, a setting no schema can know
# (400 past it); a service account's name that is only white space is schema-valid and refused; the
# caps (20 accounts, 5 keys) are 409s.
[[operations]]
include-operation-id-regex = "^(createServiceAccount|createApiKey)$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", 400, 401, 403, 404, 409, 429, "5xx"]

# A schema-valid webhook URL may be an address literal that is not public (400: no schema can say
# which addresses are), and the cap (10 endpoints) is a 409.
[[operations]]
include-operation-id-regex = "^createWebhook$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", 400, 401, 403, 404, 409, 429, "5xx"]

# An `If-Match` is any text to a schema; one that is not the settings' current version is 412.
[[operations]]
include-operation-id-regex = "^updatePermissions$"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", 401, 403, 404, 409, 412, 429, "5xx"]
"#,
        seed = options.seed,
        examples = options.max_examples,
    )
}

/// Starts a stack, seeds it, runs schemathesis against it and returns whether it found nothing.
pub async fn run(options: ContractOptions) -> Result<bool, BoxError> {
    if !options.schemathesis.exists() {
        return Err(format!(
            "{} is missing: `cargo xtask test` installs the pinned schemathesis into .venv",
            options.schemathesis.display()
        )
        .into());
    }
    let emulator = Emulator::start(None).await?;
    let sdk = emulator.sdk_config().await;
    let stack_options = StackOptions {
        pump: true,
        reconcile_every: Some(Duration::from_secs(30)),
        ..StackOptions::for_test()
    };
    let stack = Stack::start(&sdk, stack_options).await?;
    let fixtures = fixtures(&stack, &sdk).await?;
    std::fs::create_dir_all(&options.out_dir)?;
    let config_path = options.out_dir.join("schemathesis.toml");
    std::fs::write(&config_path, config(&options))?;
    let document = format!("{}/v1/openapi.json", stack.api_url);
    eprintln!(
        "contract: schemathesis against {document} ({} examples per operation and phase, seed {})",
        options.max_examples, options.seed
    );
    let status = tokio::process::Command::new(&options.schemathesis)
        .arg("--config-file")
        .arg(&config_path)
        .args(["run", &document, "--checks", "all", "--phases", "examples,coverage,fuzzing"])
        .args(["--report", "junit", "--report-dir"])
        .arg(&options.out_dir)
        .args(["--max-failures", "50", "--no-color"])
        .args(&options.extra_args)
        .env("ORGS_CONTRACT_USER_TOKEN", &fixtures.token)
        .env("ORGS_CONTRACT_AGENT_TOKEN", &fixtures.agent_token)
        .env("ORGS_CONTRACT_ORG_ID", &fixtures.org_id)
        .env("ORGS_CONTRACT_MEMBER_ID", &fixtures.member_id)
        .env("ORGS_CONTRACT_INVITATION_ID", &fixtures.invitation_id)
        .env("ORGS_CONTRACT_CLUSTER_ID", &fixtures.cluster_id)
        .env("ORGS_CONTRACT_AGENT_CLUSTER_ID", &fixtures.agent_cluster_id)
        .env("ORGS_CONTRACT_API_KEY", &fixtures.api_key)
        .env("ORGS_CONTRACT_SERVICE_ACCOUNT_ID", &fixtures.service_account_id)
        .env("ORGS_CONTRACT_API_KEY_ID", &fixtures.api_key_id)
        .env("ORGS_CONTRACT_WEBHOOK_ID", &fixtures.webhook_id)
        .env("ORGS_CONTRACT_DELIVERY_ID", &fixtures.delivery_id)
        .current_dir(&options.out_dir)
        .status()
        .await?;
    drop(stack);
    drop(emulator);
    Ok(status.success())
}

/// `.venv/bin/schemathesis` of the workspace.
pub fn default_schemathesis() -> PathBuf {
    workspace_root().join(".venv/bin/schemathesis")
}

/// `target/contract`, where the run's config and report go.
pub fn default_out_dir() -> PathBuf {
    workspace_root().join("target/contract")
}
