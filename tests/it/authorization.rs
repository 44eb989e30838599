//! One table over every route of the API: who calls it -> what they get. Non-members and removed
//! members get 404 (they may not learn the organization exists), members lacking a right 403,
//! callers without a valid token 401. Each attempt gets fresh targets, so a row never depends on
//! what an earlier row did.

use std::collections::BTreeMap;

use orgs::routes::ROUTES;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

/// Who calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Caller {
    Owner,
    Admin,
    Member,
    MemberWithInvite,
    MemberWithManageClusters,
    MemberWithOpenPorts,
    NonMember,
    RemovedMember,
    NoToken,
    ExpiredToken,
    /// A service account's key with every scope a key may hold.
    KeyAllScopes,
    /// A key with `read` alone.
    KeyReadOnly,
    /// A key revoked by the owner.
    RevokedKey,
    /// A key with one character changed: its checksum fails.
    MistypedKey,
}

const CALLERS: [Caller; 14] = [
    Caller::Owner,
    Caller::Admin,
    Caller::Member,
    Caller::MemberWithInvite,
    Caller::MemberWithManageClusters,
    Caller::MemberWithOpenPorts,
    Caller::NonMember,
    Caller::RemovedMember,
    Caller::NoToken,
    Caller::ExpiredToken,
    Caller::KeyAllScopes,
    Caller::KeyReadOnly,
    Caller::RevokedKey,
    Caller::MistypedKey,
];

impl Caller {
    /// The column heading of the printed table.
    fn label(self) -> &'static str {
        match self {
            Caller::Owner => "owner",
            Caller::Admin => "admin",
            Caller::Member => "member",
            Caller::MemberWithInvite => "+invite",
            Caller::MemberWithManageClusters => "+clusters",
            Caller::MemberWithOpenPorts => "+ports",
            Caller::NonMember => "stranger",
            Caller::RemovedMember => "removed",
            Caller::NoToken => "no token",
            Caller::ExpiredToken => "expired",
            Caller::KeyAllScopes => "key:all",
            Caller::KeyReadOnly => "key:read",
            Caller::RevokedKey => "key:gone",
            Caller::MistypedKey => "key:typo",
        }
    }

    /// The settings document in force while this caller's row runs.
    fn settings(self) -> Value {
        json!({
            "members_can_invite": self == Caller::MemberWithInvite,
            "members_can_manage_clusters": self == Caller::MemberWithManageClusters,
            "members_can_open_ports": self == Caller::MemberWithOpenPorts,
            "invitation_ttl_days": 7,
        })
    }
}

struct Fixture {
    stack: local_stack::Stack,
    org: String,
    owner: User,
    admin: User,
    member: User,
    non_member: User,
    removed: User,
    expired_token: String,
    /// The keys of one service account: every scope, `read` only, revoked, mistyped.
    keys: [String; 4],
}

async fn join(stack: &local_stack::Stack, owner: &User, org: &str, name: &str) -> User {
    let user = register(stack, &email(name)).await;
    let id = invite(stack, owner, org, &user.email).await;
    let answer = post(stack, &format!("/v1/invitations/{id}/accept"), &user, json!({})).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    user
}

async fn fixture() -> Fixture {
    let mut options = local_stack::StackOptions::for_test();
    options.limits.invitations_per_org = 1000;
    options.limits.invitations_per_inviter = 1000;
    // Every row makes clusters of its own: more than one organization keeps by default.
    options.limits.max_live_clusters = 1000;
    let stack = stack_with(options).await;
    let owner = register(&stack, &email("owner")).await;
    let org = personal_org(&stack, &owner).await;
    let admin = join(&stack, &owner, &org, "admin").await;
    let path = format!("/v1/organizations/{org}/members/{}", admin.sub);
    let promoted = call(&stack, "PATCH", &path, Some(&owner.token), Some(json!({ "role": "admin" }))).await;
    assert_eq!(promoted.status, StatusCode::OK);
    let member = join(&stack, &owner, &org, "member").await;
    let removed = join(&stack, &owner, &org, "removed").await;
    let path = format!("/v1/organizations/{org}/members/{}", removed.sub);
    assert_eq!(call(&stack, "DELETE", &path, Some(&owner.token), None).await.status, StatusCode::NO_CONTENT);
    let account = json!({
        "provider": "aws",
        "role_arn": "arn:aws:iam::111122223333:role/orgs-clusters",
        "region": "eu-west-1",
    });
    let path = format!("/v1/organizations/{org}/cloud-account");
    stack.customer_trusts("arn:aws:iam::111122223333:role/orgs-clusters", &org).await.expect("trusted");
    assert_eq!(call(&stack, "PUT", &path, Some(&owner.token), Some(account)).await.status, StatusCode::OK);
    let non_member = register(&stack, &email("stranger")).await;
    let mut claims = serde_json::to_value(stack.issuer.claims(&member.sub, &member.email)).expect("claims");
    claims["exp"] = json!(time::OffsetDateTime::now_utc().unix_timestamp() - 60);
    let expired_token = stack.issuer.current_key().sign(&claims);
    let account = service_account(&stack, &owner, &org).await;
    let all: Vec<&str> = orgs::domain::api_keys::Scopes::all_names();
    let key_all = api_key(&stack, &owner, &org, &account, json!(all)).await;
    let key_read = api_key(&stack, &owner, &org, &account, json!(["read"])).await;
    let revoked = api_key(&stack, &owner, &org, &account, json!(["read"])).await;
    let revoked_id = &revoked["key_id"];
    let path = format!(
        "/v1/organizations/{org}/service-accounts/{account}/keys/{}",
        revoked_id.as_str().expect("id")
    );
    assert_eq!(call(&stack, "DELETE", &path, Some(&owner.token), None).await.status, StatusCode::NO_CONTENT);
    let secret = |k: &Value| k["key"].as_str().expect("key").to_owned();
    let mut mistyped = secret(&key_all).into_bytes();
    mistyped[20] = if mistyped[20] == b'a' { b'b' } else { b'a' };
    let mistyped = String::from_utf8(mistyped).expect("ascii");
    let keys = [secret(&key_all), secret(&key_read), secret(&revoked), mistyped];
    Fixture { stack, org, owner, admin, member, non_member, removed, expired_token, keys }
}

impl Fixture {
    fn token(&self, caller: Caller) -> Option<String> {
        match caller {
            Caller::Owner => Some(self.owner.token.clone()),
            Caller::Admin => Some(self.admin.token.clone()),
            Caller::Member
            | Caller::MemberWithInvite
            | Caller::MemberWithManageClusters
            | Caller::MemberWithOpenPorts => Some(self.member.token.clone()),
            Caller::NonMember => Some(self.non_member.token.clone()),
            Caller::RemovedMember => Some(self.removed.token.clone()),
            Caller::NoToken => None,
            Caller::ExpiredToken => Some(self.expired_token.clone()),
            Caller::KeyAllScopes => Some(self.keys[0].clone()),
            Caller::KeyReadOnly => Some(self.keys[1].clone()),
            Caller::RevokedKey => Some(self.keys[2].clone()),
            Caller::MistypedKey => Some(self.keys[3].clone()),
        }
    }

    /// A fresh service account of the owner's, deleted after the row (`Fixture::drop_account`).
    async fn fresh_account(&self) -> String {
        service_account(&self.stack, &self.owner, &self.org).await
    }

    /// Deletes a row's service account (whatever the row did), so that the cap is never reached.
    async fn drop_account(&self, id: &str) {
        let path = format!("/v1/organizations/{}/service-accounts/{id}", self.org);
        let answer = call(&self.stack, "DELETE", &path, Some(&self.owner.token), None).await;
        assert!(matches!(answer.status.as_u16(), 204 | 404), "{:?}", answer.body);
    }

    /// A pending invitation the owner sent, to a fresh address.
    async fn owners_invitation(&self) -> String {
        invite(&self.stack, &self.owner, &self.org, &email("guest")).await
    }

    /// A fresh cluster of the owner's, moved (as the provisioner would) to `state`.
    async fn cluster_in(&self, state: orgs::domain::ClusterState) -> String {
        use orgs::domain::{ClusterState as S, Transition as T};
        let created = call(
            &self.stack,
            "POST",
            &format!("/v1/organizations/{}/clusters", self.org),
            Some(&self.owner.token),
            Some(json!({ "name": "target", "instance_type": "m5.large", "workers": 1, "user_management": "managed" })),
        )
        .await;
        assert_eq!(created.status, StatusCode::ACCEPTED, "{:?}", created.body);
        let id = created.body["cluster_id"].as_str().expect("id").to_owned();
        let path: &[T] = match state {
            S::Running => &[T::Running],
            S::Stopped => &[T::Running, T::Stop, T::Stopped],
            _ => &[],
        };
        let org = orgs::domain::OrgId::parse(&self.org).expect("org");
        let cluster_id = orgs::domain::ClusterId::parse(&id).expect("uuid");
        let store = &self.stack.api.store;
        for step in path {
            let cluster = store.cluster(&org, &cluster_id).await.expect("read").expect("cluster");
            store
                .transition(&cluster, *step, None, Default::default(), self.stack.api.now())
                .await
                .expect("moved");
        }
        id
    }

    /// Calls `function`'s route as `caller`, with fresh targets; returns the status.
    async fn attempt(&self, function: &str, caller: Caller) -> u16 {
        let org = &self.org;
        // A service account the row works on, deleted after it.
        let mut account = None;
        // A webhook endpoint the row works on, deleted after it.
        let mut endpoint = None;
        let (method, path, body) = match function {
            "list-service-accounts" => ("GET", format!("/v1/organizations/{org}/service-accounts"), None),
            "create-service-account" => (
                "POST",
                format!("/v1/organizations/{org}/service-accounts"),
                Some(json!({ "name": format!("bot {caller:?}") })),
            ),
            "delete-service-account" | "create-api-key" | "revoke-api-key" => {
                let id = self.fresh_account().await;
                let base = format!("/v1/organizations/{org}/service-accounts/{id}");
                let row = match function {
                    "delete-service-account" => ("DELETE", base, None),
                    "create-api-key" => ("POST", format!("{base}/keys"), Some(json!({ "scopes": ["read"] }))),
                    _ => {
                        let key = api_key(&self.stack, &self.owner, org, &id, json!(["read"])).await;
                        let key_id = key["key_id"].as_str().expect("key id").to_owned();
                        ("DELETE", format!("{base}/keys/{key_id}"), None)
                    }
                };
                account = Some(id);
                row
            }
            "list-webhooks" => ("GET", format!("/v1/organizations/{org}/webhooks"), None),
            "create-webhook" => (
                "POST",
                format!("/v1/organizations/{org}/webhooks"),
                Some(json!({ "url": "https://hooks.example.com/authz", "events": ["member.joined"] })),
            ),
            "delete-webhook" | "rotate-webhook-secret" | "list-webhook-deliveries" | "redeliver-webhook" => {
                let made = webhook(
                    &self.stack,
                    &self.owner,
                    org,
                    "https://hooks.example.com/authz",
                    json!(["member.joined"]),
                )
                .await;
                let id = made["webhook_id"].as_str().expect("webhook id").to_owned();
                let base = format!("/v1/organizations/{org}/webhooks/{id}");
                let row = match function {
                    "delete-webhook" => ("DELETE", base, None),
                    "rotate-webhook-secret" => ("POST", format!("{base}/secret"), None),
                    "list-webhook-deliveries" => ("GET", format!("{base}/deliveries"), None),
                    _ => {
                        // A delivery queued as the table's reader would, for a made-up event.
                        let event = orgs::domain::webhooks::WebhookEvent {
                            org: orgs::domain::OrgId::parse(org).expect("org"),
                            event_type: orgs::domain::webhooks::EventType::MemberJoined,
                            event_id: uuid::Uuid::new_v4().to_string(),
                            delivery_id: format!("{:040}", 7),
                            occurred_at: self.stack.api.now(),
                            data: serde_json::Map::new(),
                        };
                        self.stack.api.store.queue_webhook_event(&event).await.expect("queued");
                        ("POST", format!("{base}/deliveries/{}/redeliver", event.delivery_id), None)
                    }
                };
                endpoint = Some(id);
                row
            }
            "get-me" => ("GET", "/v1/me".to_owned(), None),
            "get-openapi" => ("GET", "/v1/openapi.json".to_owned(), None),
            "get-organization" => ("GET", format!("/v1/organizations/{org}"), None),
            "list-ssh-keys" => ("GET", "/v1/me/ssh-keys".to_owned(), None),
            "add-ssh-key" => {
                ("POST", "/v1/me/ssh-keys".to_owned(), Some(json!({ "public_key": ssh_key_line("k") })))
            }
            // A key of the caller's own (where the caller has a token to add one with).
            "remove-ssh-key" => {
                let mut key_id = "A".repeat(43);
                if let Some(token) = self.token(caller) {
                    let body = json!({ "public_key": ssh_key_line("k") });
                    let added = call(&self.stack, "POST", "/v1/me/ssh-keys", Some(&token), Some(body)).await;
                    if let Some(id) = added.body["key_id"].as_str() {
                        key_id = id.to_owned();
                    }
                }
                ("DELETE", format!("/v1/me/ssh-keys/{key_id}"), None)
            }
            "list-members" => ("GET", format!("/v1/organizations/{org}/members"), None),
            "list-invitations" => ("GET", format!("/v1/organizations/{org}/invitations"), None),
            "list-events" => ("GET", format!("/v1/organizations/{org}/events"), None),
            "get-usage" => ("GET", format!("/v1/organizations/{org}/usage"), None),
            "create-invitation" => (
                "POST",
                format!("/v1/organizations/{org}/invitations"),
                Some(json!({ "email": email("invitee"), "role": "member" })),
            ),
            // Nobody but the invitee answers an invitation: to everyone else it does not exist.
            "accept-invitation" | "decline-invitation" => {
                let id = self.owners_invitation().await;
                let action = function.trim_end_matches("-invitation");
                ("POST", format!("/v1/invitations/{id}/{action}"), Some(json!({})))
            }
            "remove-member" | "change-member-role" => {
                let target = join(&self.stack, &self.owner, org, "target").await;
                let path = format!("/v1/organizations/{org}/members/{}", target.sub);
                if function == "remove-member" {
                    ("DELETE", path, None)
                } else {
                    ("PATCH", path, Some(json!({ "role": "admin" })))
                }
            }
            "transfer-ownership" => (
                "POST",
                format!("/v1/organizations/{org}/ownership"),
                Some(json!({ "user_id": self.admin.sub })),
            ),
            "revoke-invitation" => {
                let id = self.owners_invitation().await;
                ("DELETE", format!("/v1/organizations/{org}/invitations/{id}"), None)
            }
            "resend-invitation" => {
                let id = self.owners_invitation().await;
                ("POST", format!("/v1/organizations/{org}/invitations/{id}/resend"), None)
            }
            // The document in force, sent back: allowed or not, nothing changes.
            "update-permissions" => {
                ("PUT", format!("/v1/organizations/{org}/permissions"), Some(caller.settings()))
            }
            "rename-organization" => (
                "PATCH",
                format!("/v1/organizations/{org}"),
                Some(json!({ "name": format!("Team {caller:?}") })),
            ),
            "create-organization" => {
                ("POST", "/v1/organizations".to_owned(), Some(json!({ "name": "Side project" })))
            }
            "get-cloud-account" => ("GET", format!("/v1/organizations/{org}/cloud-account"), None),
            "create-cluster" => (
                "POST",
                format!("/v1/organizations/{org}/clusters"),
                Some(
                    json!({ "name": "mine", "instance_type": "m5.large", "workers": 0, "user_management": "disabled" }),
                ),
            ),
            "list-clusters" => ("GET", format!("/v1/organizations/{org}/clusters"), None),
            "get-cluster" => {
                let id = self.cluster_in(orgs::domain::ClusterState::Pending).await;
                ("GET", format!("/v1/organizations/{org}/clusters/{id}"), None)
            }
            "cluster-port:put" | "cluster-port:delete" => {
                let id = self.cluster_in(orgs::domain::ClusterState::Running).await;
                let path = format!("/v1/organizations/{org}/clusters/{id}/ports/8443");
                if function.ends_with("put") {
                    ("PUT", path, None)
                } else {
                    let opened = call(&self.stack, "PUT", &path, Some(&self.owner.token), None).await;
                    assert_eq!(opened.status, StatusCode::OK, "{:?}", opened.body);
                    ("DELETE", path, None)
                }
            }
            "cluster-action:start" | "cluster-action:stop" | "cluster-action:terminate" => {
                let action = function.trim_start_matches("cluster-action:");
                let state = match action {
                    "start" => orgs::domain::ClusterState::Stopped,
                    _ => orgs::domain::ClusterState::Running,
                };
                let id = self.cluster_in(state).await;
                ("POST", format!("/v1/organizations/{org}/clusters/{id}/{action}"), Some(json!({})))
            }
            "list-cluster-users" | "revoke-node-credentials" => {
                let id = self.cluster_in(orgs::domain::ClusterState::Running).await;
                let base = format!("/v1/organizations/{org}/clusters/{id}");
                if function == "list-cluster-users" {
                    ("GET", format!("{base}/users"), None)
                } else {
                    ("DELETE", format!("{base}/nodes"), None)
                }
            }
            // A user's token, whoever the user, is not a node's credential; and no user's token
            // makes a document the instance metadata service did not sign enroll.
            "cluster-agent:enroll" => {
                let id = self.cluster_in(orgs::domain::ClusterState::Running).await;
                let document = json!({ "accountId": "111122223333", "instanceId": "i-0123456789abcdef0", "region": "us-east-1", "pendingTime": "2026-12-03T10:00:00Z" }).to_string();
                let body = json!({ "org_id": org, "document": document, "signature": "c2lnbmVk", "nonce": "n".repeat(43) });
                ("POST", format!("/v1/agent/clusters/{id}/enroll"), Some(body))
            }
            "cluster-agent:users" | "cluster-agent:ack" | "cluster-agent:heartbeat" => {
                let id = self.cluster_in(orgs::domain::ClusterState::Running).await;
                let base = format!("/v1/agent/clusters/{id}");
                match function {
                    "cluster-agent:users" => ("GET", format!("{base}/users"), None),
                    "cluster-agent:ack" => {
                        ("POST", format!("{base}/users/ack"), Some(json!({ "revision": 1, "results": [] })))
                    }
                    _ => ("POST", format!("{base}/heartbeat"), Some(json!({ "active_sessions": 0 }))),
                }
            }
            "configure-account" => (
                "PUT",
                format!("/v1/organizations/{org}/cloud-account"),
                Some(json!({
                    "provider": "aws",
                    "role_arn": "arn:aws:iam::111122223333:role/orgs-clusters",
                    "region": "eu-west-1",
                })),
            ),
            other => panic!("the table has no row for {other}: add it"),
        };
        let answer = call(&self.stack, method, &path, self.token(caller).as_deref(), body).await;
        if !answer.status.is_success() {
            assert_eq!(answer.content_type, "application/problem+json", "{function} as {caller:?}");
        }
        if function == "create-service-account" && answer.status.is_success() {
            account = answer.body["service_account_id"].as_str().map(str::to_owned);
        }
        if let Some(id) = account {
            self.drop_account(&id).await;
        }
        if function == "create-webhook" && answer.status.is_success() {
            endpoint = answer.body["webhook_id"].as_str().map(str::to_owned);
        }
        if let Some(id) = endpoint {
            let path = format!("/v1/organizations/{org}/webhooks/{id}");
            let dropped = call(&self.stack, "DELETE", &path, Some(&self.owner.token), None).await;
            assert!(matches!(dropped.status.as_u16(), 204 | 404), "{:?}", dropped.body);
        }
        if function == "transfer-ownership" && answer.status.is_success() {
            // Hand it back, so that the owner stays the owner for the rows after this one.
            let back = format!("/v1/organizations/{org}/ownership");
            let returned = call(
                &self.stack,
                "POST",
                &back,
                Some(&self.admin.token),
                Some(json!({ "user_id": self.owner.sub })),
            )
            .await;
            assert_eq!(returned.status, StatusCode::OK, "{:?}", returned.body);
        }
        answer.status.as_u16()
    }
}

/// What each caller gets from `function`, in the order of [`CALLERS`]: the people's columns,
/// then the keys'.
fn expected(function: &str) -> Vec<u16> {
    let mut row = people(function).to_vec();
    row.extend(keys(function));
    row
}

/// What the four keys get. A key acts only on the routes whose row says `Caller::UserOrKey`, and
/// there only by its scopes; every other route refuses any well-formed key (403). A revoked key
/// is a 401 where keys are taken; a mistyped one is a 401 everywhere, without a read.
fn keys(function: &str) -> [u16; 4] {
    //                                               all  read  revoked mistyped
    match function {
        "get-openapi" => [200; 4],
        "cluster-agent:users" | "cluster-agent:ack" | "cluster-agent:heartbeat" | "cluster-agent:enroll" => {
            [401; 4]
        }
        "list-members" | "list-invitations" | "list-clusters" | "get-cluster" | "get-usage"
        | "get-organization" | "get-cloud-account" => [200, 200, 401, 401],
        "create-cluster" => [202, 403, 401, 401],
        "create-invitation" => [201, 403, 401, 401],
        "list-events"
        | "list-cluster-users"
        | "revoke-node-credentials"
        | "cluster-port:put"
        | "cluster-port:delete" => [200, 403, 401, 401],
        "cluster-action:start" | "cluster-action:stop" | "cluster-action:terminate" => [202, 403, 401, 401],
        _ => [403, 403, 403, 401],
    }
}

/// What the people (and the tokens that are not keys) get.
fn people(function: &str) -> [u16; 10] {
    //                         owner admin member +invite +clusters +ports  non-member removed no-token expired
    let managers = |ok| [ok, ok, 403, 403, 403, 403, 404, 404, 401, 401];
    match function {
        "get-me" | "list-ssh-keys" => [200, 200, 200, 200, 200, 200, 200, 200, 401, 401],
        // Everyone with a token has keys of their own, whatever their organizations.
        "add-ssh-key" => [201, 201, 201, 201, 201, 201, 201, 201, 401, 401],
        "remove-ssh-key" => [204, 204, 204, 204, 204, 204, 204, 204, 401, 401],
        // The document says nothing about anyone's data: everyone may read it, even without a token.
        "get-openapi" => [200; 10],
        "create-organization" => [201, 201, 201, 201, 201, 201, 201, 201, 401, 401],
        "get-organization" | "list-members" | "list-invitations" | "get-cloud-account" | "list-clusters"
        | "get-cluster" | "get-usage" => [200, 200, 200, 200, 200, 200, 404, 404, 401, 401],
        "create-invitation" => [201, 201, 403, 201, 403, 403, 404, 404, 401, 401],
        "accept-invitation" | "decline-invitation" => [404, 404, 404, 404, 404, 404, 404, 404, 401, 401],
        "remove-member" | "revoke-invitation" => managers(204),
        "change-member-role"
        | "resend-invitation"
        | "update-permissions"
        | "rename-organization"
        | "list-events"
        | "configure-account"
        | "list-cluster-users"
        | "revoke-node-credentials" => managers(200),
        "cluster-agent:users" | "cluster-agent:ack" | "cluster-agent:heartbeat" | "cluster-agent:enroll" => {
            [401; 10]
        }
        "transfer-ownership" => [200, 403, 403, 403, 403, 403, 404, 404, 401, 401],
        "list-service-accounts" => managers(200),
        "create-service-account" | "create-api-key" => managers(201),
        "delete-service-account" | "revoke-api-key" => managers(204),
        "list-webhooks" | "rotate-webhook-secret" | "list-webhook-deliveries" => managers(200),
        "create-webhook" => managers(201),
        "delete-webhook" => managers(204),
        "redeliver-webhook" => managers(202),
        // Every member starts and stops; creating and terminating need the role or the permission.
        "cluster-action:start" | "cluster-action:stop" => [202, 202, 202, 202, 202, 202, 404, 404, 401, 401],
        "create-cluster" => [202, 202, 403, 403, 202, 403, 404, 404, 401, 401],
        "cluster-action:terminate" => [202, 202, 403, 403, 202, 403, 404, 404, 401, 401],
        "cluster-port:put" | "cluster-port:delete" => [200, 200, 403, 403, 403, 200, 404, 404, 401, 401],
        other => panic!("no expected row for {other}"),
    }
}

#[tokio::test]
async fn every_route_answers_each_kind_of_caller_as_the_table_says() {
    let fx = fixture().await;
    let settings = format!("/v1/organizations/{}/permissions", fx.org);
    let mut got: BTreeMap<String, Vec<u16>> = BTreeMap::new();
    for caller in CALLERS {
        let set = call(&fx.stack, "PUT", &settings, Some(&fx.owner.token), Some(caller.settings())).await;
        assert_eq!(set.status, StatusCode::OK, "{:?}", set.body);
        for route in ROUTES {
            // A function behind several routes has a row per route.
            let row = if ROUTES.iter().filter(|r| r.function == route.function).count() > 1 {
                // Named by the path's last segment, or the method where that is a parameter.
                let last = route.path.rsplit('/').next().unwrap_or("");
                let which = if last.starts_with('{') { route.method.to_lowercase() } else { last.to_owned() };
                format!("{}:{which}", route.function)
            } else {
                route.function.to_owned()
            };
            let status = fx.attempt(&row, caller).await;
            got.entry(row).or_default().push(status);
        }
    }
    let mut table = String::from("function                ");
    for caller in CALLERS {
        table.push_str(&format!(" {:>9}", caller.label()));
    }
    let mut mismatches = Vec::new();
    for (function, statuses) in &got {
        table.push_str(&format!("\n{function:<24}"));
        for status in statuses {
            table.push_str(&format!(" {status:>9}"));
        }
        if *statuses != expected(function) {
            mismatches.push(format!("{function}: got {statuses:?}, want {:?}", expected(function)));
        }
    }
    println!("{table}");
    assert_eq!(got.len(), ROUTES.len(), "every route has a row");
    assert!(mismatches.is_empty(), "{}\n{table}", mismatches.join("\n"));
}
