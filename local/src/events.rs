//! Ready-to-invoke events for every function, with a fresh token and ids that exist on a running
//! stack: what `cargo xtask event <function> --as <email>` writes under `.local/events/`, so that
//! `cargo lambda invoke <function> --data-file .local/events/<function>.json` answers 2xx.
//!
//! Each event starts from the function's sample in `events/` (the realistic shape) and gets the
//! caller's token and the ids of things made for it: the caller's organization, a fresh
//! invitation to the caller, a fresh member to remove, a fresh invitation for the mailer.

use orgs::store::stream::{Change, Kind};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::cognito::CognitoEventUserPoolsPostConfirmation;
use lambda_runtime::LambdaEvent;
use orgs::config::Pricing;
use orgs::contract::openapi::{Caller, Operation};
use orgs::domain::{
    Email, Invitation, InvitationId, InviteRole, Membership, NewInvitation, Timestamp, User, UserId,
};
use orgs::routes::OPERATIONS;
use orgs::store::Store;
use orgs::{Clock, SystemClock};
use register_user::Registrar;
use serde_json::{Value, json};

use crate::Issuer;
use crate::emulator::workspace_root;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The functions no HTTP route invokes (a trigger, the streams, the schedule, the operator's grant,
/// the fallback route), and the libraries that `dispatch-table-stream` hands records to (their
/// events are its input too).
pub const NOT_ROUTED: &[&str] = &[
    "register-user",
    "route-not-found",
    "send-invitation-email",
    "record-mail-feedback",
    "sync-organization-name",
    "provision-cluster",
    "dispatch-table-stream",
    "reconcile-clusters",
    "deliver-webhooks",
    "grant-credits",
    "sync-cluster-users",
];

/// Every function an event can be generated for: the routes' functions
/// ([`orgs::routes::ROUTES`]), then [`NOT_ROUTED`].
pub fn functions() -> Vec<&'static str> {
    let mut all: Vec<&'static str> = Vec::new();
    for route in orgs::routes::ROUTES {
        if !all.contains(&route.function) {
            all.push(route.function);
        }
    }
    all.extend(NOT_ROUTED);
    all
}

/// The binary that takes `function`'s events: the table's followers are libraries of
/// `dispatch-table-stream`.
pub fn invoked_by(function: &str) -> &str {
    match function {
        "sync-organization-name" | "sync-cluster-users" | "provision-cluster" => "dispatch-table-stream",
        other => other,
    }
}

/// The customer's role the generated events connect (the emulator plays account 111122223333).
pub const CUSTOMER_ROLE: &str = "arn:aws:iam::111122223333:role/orgs-clusters";

/// What generating events needs of a running stack.
pub struct EventContext {
    pub store: Store,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub streams: aws_sdk_dynamodbstreams::Client,
    pub table: String,
    pub issuer: Issuer,
    /// The emulator's endpoint: the customer's side of a cloud account (their role's trust).
    pub emulator: String,
}

/// The stable subject of a local user: the same email is the same account on every run.
pub fn local_sub(email: &Email) -> String {
    uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, format!("mailto:{email}").as_bytes()).to_string()
}

/// The event Cognito sends after a sign-up is confirmed.
pub fn post_confirmation(sub: &str, email: &str) -> Value {
    json!({
        "version": "1",
        "triggerSource": "PostConfirmation_ConfirmSignUp",
        "region": "us-east-1",
        "userPoolId": "us-east-1_local",
        "userName": sub,
        "callerContext": { "awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": crate::LOCAL_CLIENT_ID },
        "request": { "userAttributes": { "sub": sub, "email": email, "email_verified": "true", "cognito:user_status": "CONFIRMED" } },
        "response": {}
    })
}

/// Registers `email` with its stable subject through `register-user`, as Cognito's trigger would,
/// unless it is registered already.
pub async fn sign_up(store: &Store, registrar: &Registrar, email: &Email) -> Result<User, BoxError> {
    let user_id = UserId::parse(&local_sub(email))?;
    if let Some(user) = store.user(&user_id).await? {
        return Ok(user);
    }
    let event: CognitoEventUserPoolsPostConfirmation =
        serde_json::from_value(post_confirmation(user_id.as_str(), email.as_str()))?;
    crate::identity::as_function(
        "register-user",
        register_user::handle(registrar, LambdaEvent::new(event, Default::default())),
    )
    .await
    .map_err(|e| format!("register-user failed: {e}"))?;
    store.user(&user_id).await?.ok_or_else(|| "the user was not registered".into())
}

fn fresh(name: &str) -> Result<Email, BoxError> {
    Ok(Email::parse(&format!("{name}-{}@example.com", &uuid::Uuid::new_v4().simple().to_string()[..8]))?)
}

impl EventContext {
    fn now(&self) -> Timestamp {
        Timestamp::from_datetime(SystemClock.now())
    }

    /// Registers `email` (with its stable subject) unless it is already, as the trigger would.
    pub async fn ensure_user(&self, email: &Email) -> Result<User, BoxError> {
        let registrar = Registrar {
            store: self.store.clone(),
            clock: Arc::new(SystemClock),
            trial: Pricing::default().trial,
        };
        sign_up(&self.store, &registrar, email).await
    }

    async fn owner_of(&self, user: &User) -> Result<Membership, BoxError> {
        self.store
            .membership(&user.personal_org_id, &user.user_id)
            .await?
            .ok_or_else(|| "the user's personal organization has no owner membership".into())
    }

    async fn invite(&self, inviter: &Membership, email: &Email) -> Result<Invitation, BoxError> {
        let now = self.now();
        let request = NewInvitation { email: email.clone(), role: InviteRole::Member };
        let settings = orgs::domain::Settings::default();
        let invitation = Invitation::issue(inviter, request, &settings, now);
        let grant = orgs::domain::authz::may(
            inviter,
            &settings,
            orgs::domain::authz::Action::Invite(InviteRole::Member),
        )?;
        let logs = self.store.rate_logs(&inviter.org_id, &inviter.user_id, email).await?;
        self.store
            .create_invitation(inviter, &grant, &invitation, logs, &orgs::config::Limits::default(), now)
            .await?;
        Ok(invitation)
    }

    /// A new person who has just joined `owner`'s organization.
    async fn fresh_member_of(&self, owner: &User) -> Result<User, BoxError> {
        let member = self.ensure_user(&fresh("sample-member")?).await?;
        let invitation = self.invite(&self.owner_of(owner).await?, &member.email).await?;
        self.store.accept_invitation(&invitation, &member, self.now()).await?;
        Ok(member)
    }

    /// The event `function` needs, acting as `email`.
    pub async fn event(&self, function: &str, email: &Email) -> Result<Value, BoxError> {
        let caller = self.ensure_user(email).await?;
        let org = caller.personal_org_id;
        let token = self.issuer.token(caller.user_id.as_str(), caller.email.as_str());
        if let Some(op) = sampled_operation(function) {
            return self.routed_event(op, &caller, &token).await;
        }
        match function {
            "register-user" => Ok(post_confirmation(caller.user_id.as_str(), caller.email.as_str())),
            "grant-credits" => Ok(json!({
                "org_id": org,
                "credits": 50,
                "operator": "local operator",
                "reason": "a sample grant",
            })),
            "sync-organization-name" => self.rename_event(&caller).await,
            "sync-cluster-users" => {
                self.stream_record_where(|c| {
                    matches!(c, Change::Member { kind: Kind::Insert, user, .. } if *user == caller.user_id)
                })
                .await
            }
            "reconcile-clusters" => sample("reconcile-clusters"),
            "deliver-webhooks" => sample("deliver-webhooks"),
            "dispatch-table-stream" => {
                // One record for each operation that follows the table, in stream order.
                let mut records = Vec::new();
                for part in ["sync-organization-name", "sync-cluster-users", "provision-cluster"] {
                    let event = Box::pin(self.event(part, email)).await?;
                    records.extend(event["Records"].as_array().cloned().unwrap_or_default());
                }
                records.sort_by_key(|r| {
                    r["dynamodb"]["SequenceNumber"].as_str().and_then(|n| n.parse::<u128>().ok()).unwrap_or(0)
                });
                Ok(json!({ "Records": records }))
            }
            "provision-cluster" => {
                let id = self.cluster_of(&caller).await?;
                self.stream_record_where(
                    |c| matches!(c, Change::Cluster { kind: Kind::Insert, cluster, .. } if *cluster == id),
                )
                .await
            }
            "route-not-found" => http_event(
                sample("route-not-found")?,
                &caller,
                &token,
                "/v1/no-such-route",
                Value::Null,
                None,
            ),
            "send-invitation-email" => self.mailer_event(&caller).await,
            "record-mail-feedback" => {
                let invitation = self.invite(&self.owner_of(&caller).await?, &fresh("bouncing")?).await?;
                Ok(bounce_notification(&invitation.invitation_id, &invitation.email))
            }
            other => Err(format!("no function named {other}; one of: {}", functions().join(", ")).into()),
        }
    }

    /// A routed function's event: its row's route, with each path parameter and each body field
    /// named after a fixture made for the caller. `org_id` is the caller's personal organization,
    /// theirs again if an earlier event handed it away, with a connected cloud account; `user_id`
    /// a fresh member of it; `invitation_id` a fresh invitation from it (a route under the
    /// organization) or to the caller (their own answer); `cluster_id` a fresh cluster of it
    /// (the agent's routes: with its agent's token as the bearer); `port` 8080; a body's `email`
    /// a fresh address and `name` the example's made unique.
    async fn routed_event(&self, op: &Operation, caller: &User, token: &str) -> Result<Value, BoxError> {
        let org = caller.personal_org_id;
        let names: Vec<&str> =
            op.path.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}')).collect();
        let mut body: Option<Value> = op.example.map(serde_json::from_str).transpose()?;
        let wants =
            |name: &str| names.contains(&name) || body.as_ref().is_some_and(|b| b.get(name).is_some());
        let mut params: Vec<(&str, String)> = Vec::new();
        let mut token = token.to_owned();
        if names.contains(&"org_id") {
            self.own_again(caller).await?;
            self.connect_account(caller).await?;
            params.push(("org_id", org.to_string()));
        }
        if wants("user_id") {
            params.push(("user_id", self.fresh_member_of(caller).await?.user_id.to_string()));
        }
        if names.contains(&"invitation_id") {
            let invitation = if names.contains(&"org_id") {
                self.invite(&self.owner_of(caller).await?, &fresh("guest")?).await?
            } else {
                let inviter = self.ensure_user(&fresh("sample-inviter")?).await?;
                self.invite(&self.owner_of(&inviter).await?, &caller.email).await?
            };
            params.push(("invitation_id", invitation.invitation_id.to_string()));
        }
        if names.contains(&"cluster_id") {
            let (cluster, agent_token) =
                self.cluster_with_agent(caller, !op.path.ends_with("/enroll")).await?;
            if op.caller == Caller::Agent {
                token = agent_token.map(|t| t.as_str().to_owned()).unwrap_or_default();
            }
            if op.path.ends_with("/enroll") {
                // What the node's metadata service gives it: the document, signed by the stack's
                // dev key (the functions' env trusts its certificate), and a fresh nonce.
                let document = crate::imds::document(
                    &cluster.account_id,
                    cluster.region.as_str(),
                    SAMPLE_INSTANCE,
                    cluster.instance_type.as_str(),
                    &cluster.created_at.to_rfc3339(),
                );
                let signature = crate::imds::DevIdentity::shared()?.sign(&document);
                let nonce = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
                if let Some(Value::Object(fields)) = body.as_mut() {
                    fields.insert("org_id".into(), json!(cluster.org_id));
                    fields.insert("document".into(), json!(document));
                    fields.insert("signature".into(), json!(signature));
                    fields.insert("nonce".into(), json!(nonce));
                }
            }
            params.push(("cluster_id", cluster.cluster_id.to_string()));
        }
        if names.contains(&"service_account_id") {
            let owner = self.owner_of(caller).await?;
            let grant = orgs::domain::authz::may(
                &owner,
                &orgs::domain::Settings::default(),
                orgs::domain::authz::Action::ManageServiceAccounts,
            )?;
            let account = self
                .store
                .create_service_account(
                    &owner,
                    &grant,
                    &format!("sample-bot-{}", &uuid::Uuid::new_v4().simple().to_string()[..6]),
                    "",
                    self.now(),
                )
                .await?;
            let id = account.service_account_id;
            params.push(("service_account_id", id.to_string()));
            if names.contains(&"api_key_id") {
                let scopes = orgs::domain::api_keys::Scopes::parse(&["read"])?;
                let (_, info) = self
                    .store
                    .create_api_key(&owner, &grant, &id, &scopes, Default::default(), self.now())
                    .await?;
                params.push(("api_key_id", info.key_id.to_string()));
            }
        }
        if names.contains(&"webhook_id") {
            let owner = self.owner_of(caller).await?;
            let grant = orgs::domain::authz::may(
                &owner,
                &orgs::domain::Settings::default(),
                orgs::domain::authz::Action::ManageWebhooks,
            )?;
            let url = orgs::domain::webhooks::WebhookUrl::parse(
                "https://hooks.example.com/sample",
                orgs::domain::webhooks::Targets::PublicOnly,
            )?;
            let joined = orgs::domain::webhooks::EventType::MemberJoined;
            let (webhook, _) =
                self.store.create_webhook(&owner, &grant, &url, &[joined], "sample", self.now()).await?;
            params.push(("webhook_id", webhook.webhook_id.to_string()));
            if names.contains(&"delivery_id") {
                // A delivery as the table's reader queues one, for an event made up here.
                let event = orgs::domain::webhooks::WebhookEvent {
                    org,
                    event_type: joined,
                    event_id: uuid::Uuid::new_v4().to_string(),
                    delivery_id: format!("{:040}", uuid::Uuid::new_v4().as_u128() % 10u128.pow(38)),
                    occurred_at: self.now(),
                    data: serde_json::Map::new(),
                };
                self.store.queue_webhook_event(&event).await?;
                params.push(("delivery_id", event.delivery_id));
            }
        }
        if names.contains(&"key_id") {
            let key = orgs::domain::SshKey::parse(&fresh_ssh_key("sample"), self.now())?;
            self.store.add_ssh_key(&caller.user_id, &key).await?;
            params.push(("key_id", key.key_id));
        }
        params.push(("port", "8080".to_owned()));
        if let Some(Value::Object(fields)) = body.as_mut() {
            for (name, value) in fields.iter_mut() {
                match name.as_str() {
                    "email" => *value = json!(fresh("guest")?),
                    "public_key" => *value = json!(fresh_ssh_key("sample")),
                    "name" => {
                        let unique = &uuid::Uuid::new_v4().simple().to_string()[..6];
                        *value = json!(format!("{}-{unique}", value.as_str().unwrap_or("sample")));
                    }
                    other => {
                        if let Some((_, fixture)) = params.iter().find(|(n, _)| *n == other) {
                            *value = json!(fixture);
                        }
                    }
                }
            }
        }
        let mut event = http_sample(op, &params, body)?;
        event["requestContext"]["requestId"] = json!(uuid::Uuid::new_v4().to_string());
        event["requestContext"]["timeEpoch"] = json!(SystemClock.now().unix_timestamp() * 1000);
        if op.caller != Caller::Anyone {
            event["headers"]["authorization"] = json!(format!("Bearer {token}"));
        }
        let claims = &mut event["requestContext"]["authorizer"]["jwt"]["claims"];
        if claims.is_object() {
            claims["sub"] = json!(caller.user_id);
            claims["email"] = json!(caller.email);
        }
        Ok(event)
    }

    /// Gives the caller's personal organization back to them if an earlier event (a transfer of
    /// ownership) handed it to someone else.
    async fn own_again(&self, caller: &User) -> Result<(), BoxError> {
        let org = caller.personal_org_id;
        let org_item = self.store.organization_for(&org, &caller.user_id).await?;
        if let Some((organization, mine)) = org_item.filter(|(o, _)| o.owner_id != caller.user_id)
            && let Some(holder) = self.store.membership(&org, &organization.owner_id).await?
        {
            self.store
                .transfer_ownership(&holder, &mine, orgs::config::Limits::default().max_owned, self.now())
                .await?;
        }
        Ok(())
    }

    /// The latest stream record whose decoded change is `wanted`, as a stream consumer receives it.
    pub async fn stream_record_where(
        &self,
        wanted: impl Fn(&orgs::store::stream::Change) -> bool,
    ) -> Result<Value, BoxError> {
        let stream_arn = self
            .dynamodb
            .describe_table()
            .table_name(&self.table)
            .send()
            .await?
            .table
            .and_then(|t| t.latest_stream_arn)
            .ok_or("the table has no stream")?;
        let records = crate::pump::read_batch(&self.streams, &stream_arn, 1000).await?;
        let record = records
            .into_iter()
            .rev()
            .find(|r| crate::pump::change_of(r, &stream_arn).is_ok_and(|c| wanted(&c)))
            .ok_or("no stream record with the change wanted")?;
        Ok(serde_json::to_value(crate::pump::lambda_event(&[record], &stream_arn)?)?)
    }

    /// The customer's role trusts the service with `org`'s external id (see
    /// [`crate::Stack::customer_trusts`]); returns that id.
    async fn customer_trusts(&self, org: &orgs::domain::OrgId) -> Result<orgs::domain::ExternalId, BoxError> {
        let external_id = self.store.ensure_external_id(org).await?;
        let policy = orgs::domain::trust_policy(&crate::service_identity(), &external_id);
        crate::emulator::trust(&self.emulator, CUSTOMER_ROLE, &policy).await?;
        Ok(external_id)
    }

    /// Connects the caller's organization to a cloud account (as configure-account would after
    /// proving the role), unless it has one.
    async fn connect_account(&self, caller: &User) -> Result<orgs::domain::CloudAccount, BoxError> {
        let org = caller.personal_org_id;
        let view = self.store.cloud_account_view(&org, orgs::store::Reader::Member(&caller.user_id)).await?;
        if let Some(account) = view.account {
            return Ok(account);
        }
        let external_id = self.customer_trusts(&org).await?;
        let account = orgs::domain::CloudAccount {
            provider: orgs::domain::Provider::Aws,
            role_arn: orgs::domain::RoleArn::parse(CUSTOMER_ROLE)?,
            region: orgs::domain::AwsRegion::parse("eu-west-1")?,
            account_id: "111122223333".into(),
            verified_at: self.now(),
            configured_by: caller.user_id.clone(),
        };
        let grant = orgs::domain::authz::may(
            &view.membership,
            &view.organization.settings,
            orgs::domain::authz::Action::ConfigureAccount,
        )?;
        self.store
            .configure_cloud_account(&view.membership, &grant, &external_id, &account, self.now())
            .await?;
        Ok(account)
    }

    /// A fresh cluster of the caller's organization, created as create-cluster would.
    async fn cluster_of(&self, caller: &User) -> Result<orgs::domain::ClusterId, BoxError> {
        Ok(self.cluster_with_agent(caller, false).await?.0.cluster_id)
    }

    /// A new cluster of the caller's organization with one instance, [`SAMPLE_INSTANCE`]; with
    /// `enrolled`, that instance enrolled as a node (as its agent would, here without a signed
    /// document), and the node's credential.
    async fn cluster_with_agent(
        &self,
        caller: &User,
        enrolled: bool,
    ) -> Result<(orgs::domain::Cluster, Option<orgs::domain::node_identity::NodeCredential>), BoxError> {
        let account = self.connect_account(caller).await?;
        let org = caller.personal_org_id;
        let (organization, membership) =
            self.store.organization_for(&org, &caller.user_id).await?.ok_or("not a member")?;
        let grant = orgs::domain::authz::may(
            &membership,
            &organization.settings,
            orgs::domain::authz::Action::ManageClusters,
        )?;
        let spec = orgs::domain::ClusterSpec {
            name: orgs::domain::ClusterName::parse("sample")?,
            instance_type: orgs::domain::InstanceType::parse("m5.large")?,
            workers: 1,
            user_management: orgs::domain::UserManagement::Managed,
            idle_stop_minutes: None,
        };
        let mut cluster = orgs::domain::Cluster::pending(
            org,
            spec,
            &caller.user_id,
            &account,
            &Pricing::default().rates,
            self.now(),
        )?;
        cluster.instances = vec![SAMPLE_INSTANCE.to_owned()];
        self.store
            .create_cluster(
                &membership,
                &grant,
                &cluster,
                &account,
                orgs::config::Limits::default().max_live_clusters,
            )
            .await?;
        if !enrolled {
            return Ok((cluster, None));
        }
        let doc = orgs::domain::node_identity::IdentityDocument {
            instance_id: SAMPLE_INSTANCE.to_owned(),
            account_id: cluster.account_id.clone(),
            region: cluster.region.as_str().to_owned(),
            pending_time: cluster.created_at.datetime(),
        };
        let credential = orgs::domain::node_identity::NodeCredential::generate(&org, SAMPLE_INSTANCE);
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let expires =
            self.now().plus(time::Duration::seconds(orgs::domain::node_identity::CREDENTIAL_SECONDS));
        self.store
            .enroll_node(
                &cluster,
                &doc,
                &orgs::domain::cluster_users::hash(&nonce),
                &credential.hash(),
                expires,
                self.now(),
            )
            .await?
            .map_err(|refusal| format!("the sample node was refused: {refusal}"))?;
        Ok((cluster, Some(credential)))
    }

    /// The stream record of a rename of the caller's organization, as `sync-organization-name`
    /// receives it.
    async fn rename_event(&self, caller: &User) -> Result<Value, BoxError> {
        let org = caller.personal_org_id;
        let name = format!("Renamed {}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let (organization, owner) = self
            .store
            .organization_for(&org, &caller.user_id)
            .await?
            .ok_or("the caller's personal organization is missing")?;
        let grant =
            orgs::domain::authz::may(&owner, &organization.settings, orgs::domain::authz::Action::Rename)?;
        let name = orgs::domain::OrgName::parse(&name)?;
        self.store.rename(&owner, &grant, &organization.name, &name, self.now()).await?;
        self.stream_record_where(|c| matches!(c, Change::Org { org: o, renamed: true } if *o == org)).await
    }

    /// The stream record of a fresh invitation from the caller's organization, as the mailer
    /// receives it. A running dev stack's own pump mails it at once; the invitation is then marked
    /// unsent again, so that invoking the mailer with this event sends it (a second time).
    async fn mailer_event(&self, caller: &User) -> Result<Value, BoxError> {
        let invitation = self.invite(&self.owner_of(caller).await?, &fresh("guest")?).await?;
        let event = self
            .stream_record_where(
                |c| matches!(c, Change::Invitation { kind: Kind::Insert, id, .. } if *id == invitation.invitation_id),
            )
            .await?;
        // Give a running pump time to mail it (10 s at most), then mark it unsent.
        for _ in 0..100 {
            if self.store.invitation(&invitation.invitation_id).await?.is_some_and(|i| i.delivery.is_some()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.dynamodb
            .update_item()
            .table_name(&self.table)
            .set_key(Some(crate::table::key::invitation(&invitation.invitation_id)))
            .update_expression("REMOVE delivery")
            .send()
            .await?;
        Ok(event)
    }
}

/// A fresh OpenSSH Ed25519 public key line (any 32 bytes are a key to the parser).
pub fn fresh_ssh_key(comment: &str) -> String {
    use base64::Engine;
    let mut blob = Vec::new();
    blob.extend_from_slice(&11u32.to_be_bytes());
    blob.extend_from_slice(b"ssh-ed25519");
    blob.extend_from_slice(&32u32.to_be_bytes());
    blob.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    blob.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    format!("ssh-ed25519 {} {comment}", base64::engine::general_purpose::STANDARD.encode(blob))
}

/// `base` (an API Gateway event) with the caller's token, the path and its parameters, and `body`.
fn http_event(
    mut event: Value,
    caller: &User,
    token: &str,
    path: &str,
    params: Value,
    body: Option<Value>,
) -> Result<Value, BoxError> {
    event["rawPath"] = json!(path);
    event["requestContext"]["http"]["path"] = json!(path);
    event["requestContext"]["requestId"] = json!(uuid::Uuid::new_v4().to_string());
    event["requestContext"]["timeEpoch"] = json!(SystemClock.now().unix_timestamp() * 1000);
    event["headers"]["authorization"] = json!(format!("Bearer {token}"));
    if !params.is_null() {
        event["pathParameters"] = params;
    }
    if let Some(body) = body {
        let text = body.to_string();
        event["headers"]["content-type"] = json!("application/json");
        event["headers"]["content-length"] = json!(text.len().to_string());
        event["body"] = json!(text);
        event["isBase64Encoded"] = json!(false);
    }
    // The authorizer's claims are API Gateway's copy of the token's: keep them the caller's.
    let claims = &mut event["requestContext"]["authorizer"]["jwt"]["claims"];
    if claims.is_object() {
        claims["sub"] = json!(caller.user_id);
        claims["email"] = json!(caller.email);
    }
    Ok(event)
}

/// The route a routed function's events take: the one its row marks `sampled`, else its first.
pub fn sampled_operation(function: &str) -> Option<&'static Operation> {
    let mut rows = OPERATIONS.iter().filter(|op| op.function == function);
    let first = rows.clone().next();
    rows.find(|op| op.sampled).or(first)
}

/// The ids a sample made without a stack fills path parameters with (the people of `events/`).
pub const EXAMPLE_PARAMS: &[(&str, &str)] = &[
    ("org_id", "4b6f1d2e-8c3a-4f7e-9a51-2d0c6b8e7f13"),
    ("user_id", "3c5e7a91-2b4d-4f6a-8c0e-1d2f3a4b5c6d"),
    ("invitation_id", "0193a3b2-9f1e-7c4d-8a2b-3c4d5e6f7a8b"),
    ("cluster_id", "0193a3c1-5e2f-7a4b-9c8d-1e2f3a4b5c6d"),
    ("port", "8080"),
    ("key_id", "-DiY3wvvV6TuJJhbpZisF_zLDA0zPMSvHdkr4UvCOqU"),
    ("service_account_id", "5d8e2f4a-1b3c-4d6e-8f0a-2b4c6d8e0f1a"),
    ("api_key_id", "4fT9kQ2mZx7B"),
    ("webhook_id", "7a1c3e5f-2b4d-4c6e-8a0b-1c2d3e4f5a6b"),
    ("delivery_id", "0000000000000000000000000000000000001042"),
];

/// `op`'s API Gateway event, from `events/http.json`: its route, its path with `params` (by name),
/// its example query and `body` (its example when `None`); the authorizer's claims only where API
/// Gateway's JWT authorizer runs (a user's routes).
pub fn http_sample(
    op: &Operation,
    params: &[(&str, String)],
    body: Option<Value>,
) -> Result<Value, BoxError> {
    let mut event = sample("http")?;
    let route_key = format!("{} {}", op.method, op.path);
    let mut path = op.path.to_owned();
    let mut parameters = serde_json::Map::new();
    for name in op.path.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}')) {
        let value = params
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| format!("{route_key}: no value for {{{name}}}"))?;
        path = path.replace(&format!("{{{name}}}"), &value);
        parameters.insert(name.to_owned(), json!(value));
    }
    event["routeKey"] = json!(route_key);
    event["requestContext"]["routeKey"] = json!(route_key);
    event["requestContext"]["http"]["method"] = json!(op.method);
    event["rawPath"] = json!(path);
    event["requestContext"]["http"]["path"] = json!(path);
    if !parameters.is_empty() {
        event["pathParameters"] = Value::Object(parameters);
    }
    event["rawQueryString"] = json!(op.example_query);
    if !op.example_query.is_empty() {
        let pairs: serde_json::Map<String, Value> = op
            .example_query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (k.to_owned(), json!(v)))
            .collect();
        event["queryStringParameters"] = Value::Object(pairs);
    }
    let body = match body {
        Some(body) => Some(body),
        None => op.example.map(serde_json::from_str).transpose()?,
    };
    if let Some(body) = body {
        let text = body.to_string();
        event["headers"]["content-type"] = json!("application/json");
        event["headers"]["content-length"] = json!(text.len().to_string());
        event["body"] = json!(text);
    }
    let context = event["requestContext"].as_object_mut().ok_or("events/http.json: no requestContext")?;
    match op.caller {
        Caller::User => {}
        // No JWT authorizer on a route that takes keys: the function verifies the bearer.
        Caller::UserOrKey => {
            context.remove("authorizer");
        }
        Caller::Agent => {
            context.remove("authorizer");
            event["headers"]["authorization"] = json!("Bearer REPLACE_WITH_THE_NODE_CREDENTIAL_FROM_ENROLL");
        }
        Caller::Anyone => {
            context.remove("authorizer");
            event["headers"].as_object_mut().map(|h| h.remove("authorization"));
        }
    }
    Ok(event)
}

/// The one instance of the clusters sample events are made for.
pub const SAMPLE_INSTANCE: &str = "i-0123456789abcdef0";

/// `function`'s sample made without a stack: its file in `events/`, or, for a routed function, its
/// row rendered with [`EXAMPLE_PARAMS`].
pub fn offline_sample(function: &str) -> Result<Value, BoxError> {
    match sampled_operation(function) {
        Some(op) => {
            let params: Vec<(&str, String)> =
                EXAMPLE_PARAMS.iter().map(|(name, value)| (*name, (*value).to_owned())).collect();
            http_sample(op, &params, None)
        }
        None => sample(function),
    }
}

pub fn sample(function: &str) -> Result<Value, BoxError> {
    let path = workspace_root().join("events").join(format!("{function}.json"));
    Ok(serde_json::from_str(
        &std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?,
    )?)
}

/// The SNS event SES publishes for a permanent bounce of an invitation email.
fn bounce_notification(id: &InvitationId, to: &Email) -> Value {
    let mut event = sample("record-mail-feedback").unwrap_or_else(|_| json!({ "Records": [{ "Sns": {} }] }));
    let message = json!({
        "eventType": "Bounce",
        "bounce": {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [{ "emailAddress": to, "action": "failed", "status": "5.1.1",
                "diagnosticCode": "smtp; 550 5.1.1 user unknown" }],
            "timestamp": Timestamp::from_datetime(SystemClock.now()).to_rfc3339()
        },
        "mail": {
            "timestamp": Timestamp::from_datetime(SystemClock.now()).to_rfc3339(),
            "source": "no-reply@orgs.local",
            "messageId": format!("local-{}", uuid::Uuid::new_v4().simple()),
            "destination": [to],
            "tags": { "invitation_id": [id.to_string()] }
        }
    });
    event["Records"][0]["Sns"]["Message"] = json!(message.to_string());
    event["Records"][0]["Sns"]["MessageId"] = json!(uuid::Uuid::new_v4().to_string());
    event
}

/// Writes `event` to `<dir>/<function>.json` and returns the path.
pub fn write(dir: &Path, function: &str, event: &Value) -> Result<std::path::PathBuf, BoxError> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(format!("{function}.json"));
    std::fs::write(&path, serde_json::to_string_pretty(event)?)?;
    Ok(path)
}
