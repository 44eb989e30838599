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
use orgs::domain::{
    Email, Invitation, InvitationId, InviteRole, Membership, NewInvitation, Timestamp, User, UserId,
};
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
        let grant = orgs::domain::authz::check(
            inviter.role,
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
        let http = |path: String, params: Value, body: Option<Value>| {
            http_event(function, &caller, &token, &path, params, body)
        };
        match function {
            "register-user" => Ok(post_confirmation(caller.user_id.as_str(), caller.email.as_str())),
            "get-me" => http("/v1/me".into(), Value::Null, None),
            "get-organization" => http(format!("/v1/organizations/{org}"), json!({ "org_id": org }), None),
            "list-members" => {
                http(format!("/v1/organizations/{org}/members"), json!({ "org_id": org }), None)
            }
            "create-invitation" => http(
                format!("/v1/organizations/{org}/invitations"),
                json!({ "org_id": org }),
                Some(json!({ "email": fresh("guest")?, "role": "member" })),
            ),
            "accept-invitation" | "decline-invitation" => {
                let inviter = self.ensure_user(&fresh("sample-inviter")?).await?;
                let invitation = self.invite(&self.owner_of(&inviter).await?, &caller.email).await?;
                let id = invitation.invitation_id;
                let action = function.trim_end_matches("-invitation");
                http(
                    format!("/v1/invitations/{id}/{action}"),
                    json!({ "invitation_id": id }),
                    Some(json!({})),
                )
            }
            "remove-member" | "change-member-role" => {
                let user = self.fresh_member_of(&caller).await?.user_id;
                let body = (function == "change-member-role").then(|| json!({ "role": "admin" }));
                http(
                    format!("/v1/organizations/{org}/members/{user}"),
                    json!({ "org_id": org, "user_id": user }),
                    body,
                )
            }
            "transfer-ownership" => {
                // An earlier invocation may have handed the caller's organization away: take it
                // back first, so the event works every time it is generated.
                let org_item = self.store.organization_for(&org, &caller.user_id).await?;
                if let Some((organization, mine)) = org_item.filter(|(o, _)| o.owner_id != caller.user_id) {
                    let holder = self.store.membership(&org, &organization.owner_id).await?;
                    if let Some(holder) = holder {
                        self.store
                            .transfer_ownership(
                                &holder,
                                &mine,
                                orgs::config::Limits::default().max_owned,
                                self.now(),
                            )
                            .await?;
                    }
                }
                let user = self.fresh_member_of(&caller).await?.user_id;
                http(
                    format!("/v1/organizations/{org}/ownership"),
                    json!({ "org_id": org }),
                    Some(json!({ "user_id": user })),
                )
            }
            "revoke-invitation" => {
                let invitation = self.invite(&self.owner_of(&caller).await?, &fresh("guest")?).await?;
                let id = invitation.invitation_id;
                http(
                    format!("/v1/organizations/{org}/invitations/{id}"),
                    json!({ "org_id": org, "invitation_id": id }),
                    None,
                )
            }
            "resend-invitation" => {
                let invitation = self.invite(&self.owner_of(&caller).await?, &fresh("guest")?).await?;
                let id = invitation.invitation_id;
                http(
                    format!("/v1/organizations/{org}/invitations/{id}/resend"),
                    json!({ "org_id": org, "invitation_id": id }),
                    None,
                )
            }
            "list-invitations" => {
                http(format!("/v1/organizations/{org}/invitations"), json!({ "org_id": org }), None)
            }
            "list-events" => http(format!("/v1/organizations/{org}/events"), json!({ "org_id": org }), None),
            "get-usage" => {
                let mut event =
                    http(format!("/v1/organizations/{org}/usage"), json!({ "org_id": org }), None)?;
                event["rawQueryString"] = json!("from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z");
                event["queryStringParameters"] =
                    json!({ "from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z" });
                Ok(event)
            }
            "grant-credits" => Ok(json!({
                "org_id": org,
                "credits": 50,
                "operator": "local operator",
                "reason": "a sample grant",
            })),
            "update-permissions" => http(
                format!("/v1/organizations/{org}/permissions"),
                json!({ "org_id": org }),
                Some(json!({
                    "members_can_invite": true,
                    "members_can_manage_clusters": true,
                    "members_can_open_ports": false,
                    "invitation_ttl_days": 14,
                })),
            ),
            "create-organization" => {
                http("/v1/organizations".into(), Value::Null, Some(json!({ "name": "Sample team" })))
            }
            "rename-organization" => http(
                format!("/v1/organizations/{org}"),
                json!({ "org_id": org }),
                Some(
                    json!({ "name": format!("Renamed {}", &uuid::Uuid::new_v4().simple().to_string()[..6]) }),
                ),
            ),
            "sync-organization-name" => self.rename_event(&caller).await,
            "sync-cluster-users" => {
                self.stream_record_where(|c| {
                    matches!(c, Change::Member { kind: Kind::Insert, user, .. } if *user == caller.user_id)
                })
                .await
            }
            "list-cluster-users" | "rotate-agent-token" => {
                let cluster = self.cluster_of(&caller).await?;
                let params = json!({ "org_id": org, "cluster_id": cluster });
                let base = format!("/v1/organizations/{org}/clusters/{cluster}");
                if function == "list-cluster-users" {
                    http(format!("{base}/users"), params, None)
                } else {
                    http(format!("{base}/agent-token"), params, Some(json!({})))
                }
            }
            "cluster-agent" => {
                // The agent pulls its users, with its own token.
                let (cluster, token) = self.cluster_with_agent(&caller).await?;
                let mut event = http(
                    format!("/v1/agent/clusters/{cluster}/users"),
                    json!({ "cluster_id": cluster }),
                    None,
                )?;
                event["headers"]["authorization"] = json!(format!("Bearer {}", token.as_str()));
                event["rawQueryString"] = json!("after=0");
                event["queryStringParameters"] = json!({ "after": "0" });
                Ok(event)
            }
            "reconcile-clusters" => sample("reconcile-clusters"),
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
            "configure-account" => {
                self.customer_trusts(&org).await?;
                http(
                    format!("/v1/organizations/{org}/cloud-account"),
                    json!({ "org_id": org }),
                    Some(json!({ "provider": "aws", "role_arn": CUSTOMER_ROLE, "region": "eu-west-1" })),
                )
            }
            "create-cluster" => {
                self.connect_account(&caller).await?;
                http(
                    format!("/v1/organizations/{org}/clusters"),
                    json!({ "org_id": org }),
                    Some(
                        json!({ "name": "analytics", "instance_type": "m5.xlarge", "workers": 2, "user_management": "managed" }),
                    ),
                )
            }
            "list-clusters" => {
                http(format!("/v1/organizations/{org}/clusters"), json!({ "org_id": org }), None)
            }
            "cluster-port" => {
                let cluster = self.cluster_of(&caller).await?;
                let mut event = http(
                    format!("/v1/organizations/{org}/clusters/{cluster}/ports/8080"),
                    json!({ "org_id": org, "cluster_id": cluster, "port": "8080" }),
                    None,
                )?;
                event["routeKey"] =
                    json!("PUT /v1/organizations/{org_id}/clusters/{cluster_id}/ports/{port}");
                event["requestContext"]["routeKey"] = event["routeKey"].clone();
                Ok(event)
            }
            "get-cluster" | "cluster-action" => {
                let cluster = self.cluster_of(&caller).await?;
                let path = format!("/v1/organizations/{org}/clusters/{cluster}");
                let params = json!({ "org_id": org, "cluster_id": cluster });
                if function == "get-cluster" {
                    http(path, params, None)
                } else {
                    let mut event = http(format!("{path}/terminate"), params, Some(json!({})))?;
                    event["routeKey"] =
                        json!("POST /v1/organizations/{org_id}/clusters/{cluster_id}/terminate");
                    event["requestContext"]["routeKey"] = event["routeKey"].clone();
                    Ok(event)
                }
            }
            "get-cloud-account" => {
                http(format!("/v1/organizations/{org}/cloud-account"), json!({ "org_id": org }), None)
            }
            "route-not-found" => http("/v1/no-such-route".into(), Value::Null, None),
            "get-openapi" => http("/v1/openapi.json".into(), Value::Null, None),
            "send-invitation-email" => self.mailer_event(&caller).await,
            "record-mail-feedback" => {
                let invitation = self.invite(&self.owner_of(&caller).await?, &fresh("bouncing")?).await?;
                Ok(bounce_notification(&invitation.invitation_id, &invitation.email))
            }
            other => Err(format!("no function named {other}; one of: {}", functions().join(", ")).into()),
        }
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
        let view = self.store.cloud_account_view(&org, &caller.user_id).await?.ok_or("not a member")?;
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
        let grant = orgs::domain::authz::check(
            view.membership.role,
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
        Ok(self.cluster_with_agent(caller).await?.0)
    }

    /// A new cluster of the caller's organization, and its agent's token.
    async fn cluster_with_agent(
        &self,
        caller: &User,
    ) -> Result<(orgs::domain::ClusterId, orgs::domain::AgentToken), BoxError> {
        let account = self.connect_account(caller).await?;
        let org = caller.personal_org_id;
        let (organization, membership) =
            self.store.organization_for(&org, &caller.user_id).await?.ok_or("not a member")?;
        let grant = orgs::domain::authz::check(
            membership.role,
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
        let cluster = orgs::domain::Cluster::pending(
            org,
            spec,
            &caller.user_id,
            &account,
            &Pricing::default().rates,
            self.now(),
        )?;
        let token = orgs::domain::AgentToken::generate();
        let agent = orgs::store::AgentItem::new(org, cluster.cluster_id, token.hash(), cluster.created_at);
        self.store
            .create_cluster(
                &membership,
                &grant,
                &cluster,
                &account,
                &agent,
                orgs::config::Limits::default().max_live_clusters,
            )
            .await?;
        Ok((cluster.cluster_id, token))
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
        let grant = orgs::domain::authz::check(
            owner.role,
            &organization.settings,
            orgs::domain::authz::Action::Rename,
        )?;
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

/// The function's sample API Gateway event with the caller's token, the path and its parameters.
fn http_event(
    function: &str,
    caller: &User,
    token: &str,
    path: &str,
    params: Value,
    body: Option<Value>,
) -> Result<Value, BoxError> {
    let mut event = sample(function)?;
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

fn sample(function: &str) -> Result<Value, BoxError> {
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
