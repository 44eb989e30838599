//! Managed cluster users: every member has an account on every managed cluster (the owner and
//! admins as cluster admins), a removed member is blocked, the cluster's agent pulls the changes
//! and acknowledges them with its node's credential, and idle clusters are stopped.

use lambda_runtime::LambdaEvent;
use orgs::domain::{Credits, OrgId, UserId};
use orgs::store::stream::{Change, Kind};
use reqwest::StatusCode;
use serde_json::{Value, json};
use time::Duration;

use crate::clusters::{act, connect, settles};
use crate::support::*;

/// Alice's organization, connected to a cloud account.
pub(crate) async fn alice_connected(stack: &local_stack::Stack) -> (User, String) {
    let alice = register(stack, &email("alice")).await;
    let org = personal_org(stack, &alice).await;
    connect(stack, &alice, &org).await;
    (alice, org)
}

/// A new cluster, running, and the credential of its head node, enrolled as its agent enrolls
/// (no answer of the API carries a cluster credential).
pub(crate) async fn cluster(
    stack: &local_stack::Stack,
    who: &User,
    org: &str,
    name: &str,
    mode: &str,
) -> (String, String) {
    let body = json!({ "name": name, "instance_type": "m5.large", "workers": 0, "user_management": mode });
    let created = post(stack, &format!("/v1/organizations/{org}/clusters"), who, body).await;
    assert_eq!(created.status, StatusCode::ACCEPTED, "{:?}", created.body);
    let text = created.body.to_string();
    assert!(!text.contains("token") && !text.contains("ocn_") && !text.contains("credential"), "{text}");
    let id = created.body["cluster_id"].as_str().expect("id").to_owned();
    let head = instances(stack, who, org, &id).await.remove(0);
    let enrolled = enroll(stack, org, &id, &head, &nonce()).await;
    assert_eq!(enrolled.status, StatusCode::OK, "{:?}", enrolled.body);
    (id, enrolled.body["credential"].as_str().expect("a credential").to_owned())
}

/// A new cluster's id, as created (pending until the provisioner launches it).
pub(crate) async fn created(
    stack: &local_stack::Stack,
    who: &User,
    org: &str,
    name: &str,
    mode: &str,
) -> String {
    created_with(stack, who, org, name, mode, 0).await
}

/// [`created`], with `workers` workers.
pub(crate) async fn created_with(
    stack: &local_stack::Stack,
    who: &User,
    org: &str,
    name: &str,
    mode: &str,
    workers: u32,
) -> String {
    let body =
        json!({ "name": name, "instance_type": "m5.large", "workers": workers, "user_management": mode });
    let created = post(stack, &format!("/v1/organizations/{org}/clusters"), who, body).await;
    assert_eq!(created.status, StatusCode::ACCEPTED, "{:?}", created.body);
    created.body["cluster_id"].as_str().expect("id").to_owned()
}

/// `DELETE .../clusters/{cluster}/nodes` as `who`: every node credential of the cluster revoked.
pub(crate) async fn revoke_nodes(stack: &local_stack::Stack, who: &User, org: &str, cluster: &str) -> Answer {
    call(
        stack,
        "DELETE",
        &format!("/v1/organizations/{org}/clusters/{cluster}/nodes"),
        Some(&who.token),
        None,
    )
    .await
}

/// A node's nonce, as the agent makes one.
pub(crate) fn nonce() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

/// The cluster's instances, head first, once it runs.
pub(crate) async fn instances(
    stack: &local_stack::Stack,
    who: &User,
    org: &str,
    cluster: &str,
) -> Vec<String> {
    settles(stack, who, org, cluster, "running").await;
    let read = get(stack, &format!("/v1/organizations/{org}/clusters/{cluster}"), who).await;
    let instances: Vec<String> = read.body["instances"]
        .as_array()
        .expect("instances")
        .iter()
        .map(|i| i.as_str().expect("an instance id").to_owned())
        .collect();
    assert!(!instances.is_empty(), "a running cluster has instances: {:?}", read.body);
    instances
}

/// The identity document and signature the stack's stand-in metadata service gives `instance`.
pub(crate) async fn identity_document(
    stack: &local_stack::Stack,
    org: &str,
    cluster: &str,
    instance: &str,
) -> (String, String) {
    stack.identity_document(org, cluster, instance).await.expect("the metadata service answers")
}

/// `POST /v1/agent/clusters/{cluster}/enroll` as `instance`'s agent sends it.
pub(crate) async fn enroll(
    stack: &local_stack::Stack,
    org: &str,
    cluster: &str,
    instance: &str,
    nonce: &str,
) -> crate::support::Answer {
    let (document, signature) = identity_document(stack, org, cluster, instance).await;
    enroll_with(stack, org, cluster, &document, &signature, nonce).await
}

pub(crate) async fn enroll_with(
    stack: &local_stack::Stack,
    org: &str,
    cluster: &str,
    document: &str,
    signature: &str,
    nonce: &str,
) -> crate::support::Answer {
    let body = json!({ "org_id": org, "document": document, "signature": signature, "nonce": nonce });
    call(stack, "POST", &format!("/v1/agent/clusters/{cluster}/enroll"), None, Some(body)).await
}

/// The cluster's accounts as its owner and admins see them, by user id.
pub(crate) async fn accounts(stack: &local_stack::Stack, who: &User, org: &str, cluster: &str) -> Vec<Value> {
    let listed = get(stack, &format!("/v1/organizations/{org}/clusters/{cluster}/users"), who).await;
    assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.body);
    listed.body["users"].as_array().cloned().unwrap_or_default()
}

pub(crate) fn account_of<'a>(accounts: &'a [Value], user: &User) -> Option<&'a Value> {
    accounts.iter().find(|a| a["user_id"] == user.sub.as_str())
}

/// Waits until `user`'s account on `cluster` is `role` and `status`, and returns it.
pub(crate) async fn account_becomes(
    stack: &local_stack::Stack,
    viewer: &User,
    org: &str,
    cluster: &str,
    user: &User,
    role: &str,
    status: &str,
) -> Value {
    eventually(&format!("{} {role} {status} on {cluster}", user.email), || async {
        let all = accounts(stack, viewer, org, cluster).await;
        account_of(&all, user).filter(|a| a["role"] == role && a["status"] == status).cloned()
    })
    .await
}

async fn pull(stack: &local_stack::Stack, cluster: &str, token: &str, after: u64) -> crate::support::Answer {
    call(stack, "GET", &format!("/v1/agent/clusters/{cluster}/users?after={after}"), Some(token), None).await
}

#[tokio::test]
pub(crate) async fn members_get_accounts_on_managed_clusters_follow_their_role_and_are_blocked_when_removed()
{
    let stack = stack().await;
    let (alice, org) = alice_connected(&stack).await;
    let (one, one_token) = cluster(&stack, &alice, &org, "one", "managed").await;
    let (two, two_token) = cluster(&stack, &alice, &org, "two", "managed").await;
    let (plain, plain_token) = cluster(&stack, &alice, &org, "plain", "disabled").await;
    let bob = register(&stack, &email("bob")).await;
    let id = invite(&stack, &alice, &org, &bob.email).await;
    assert_eq!(
        post(&stack, &format!("/v1/invitations/{id}/accept"), &bob, json!({})).await.status,
        StatusCode::OK
    );

    // Bob has a pending user account on each managed cluster, and none on the other.
    for managed in [&one, &two] {
        let account = account_becomes(&stack, &alice, &org, managed, &bob, "user", "active").await;
        assert_eq!(account["delivery"], "pending");
        account_becomes(&stack, &alice, &org, managed, &alice, "admin", "active").await;
    }
    assert!(accounts(&stack, &alice, &org, &plain).await.is_empty(), "user management is disabled there");
    let nothing = pull(&stack, &plain, &plain_token, 0).await;
    assert_eq!((nothing.status, nothing.body["users"].clone()), (StatusCode::OK, json!([])));

    // The agent of the first cluster pulls both accounts in revision order and acknowledges them.
    let pulled = pull(&stack, &one, &one_token, 0).await;
    assert_eq!(pulled.status, StatusCode::OK, "{:?}", pulled.body);
    let users = pulled.body["users"].as_array().expect("users").clone();
    let revisions: Vec<u64> = users.iter().map(|u| u["revision"].as_u64().expect("revision")).collect();
    assert_eq!(revisions, [1, 2], "{users:?}");
    assert_eq!(pulled.body["revision"], 2);
    assert_eq!(pulled.body["latest_revision"], 2);
    let results: Vec<Value> =
        users.iter().map(|u| json!({ "user_id": u["user_id"], "status": "applied" })).collect();
    let ack = post_as(
        &stack,
        &format!("/v1/agent/clusters/{one}/users/ack"),
        &one_token,
        json!({ "revision": 2, "results": results }),
    )
    .await;
    assert_eq!((ack.status, ack.body.clone()), (StatusCode::OK, json!({ "recorded": 2, "stale": 0 })));
    let applied = accounts(&stack, &alice, &org, &one).await;
    let bobs = account_of(&applied, &bob).expect("Bob's account");
    assert_eq!(bobs["delivery"], "applied");
    assert!(bobs["applied_at"].is_string());
    assert_eq!(
        account_of(&accounts(&stack, &alice, &org, &two).await, &bob).expect("on two")["delivery"],
        "pending"
    );

    // Promoted, Bob administers both clusters; demoted, he is a user again.
    let membership = format!("/v1/organizations/{org}/members/{}", bob.sub);
    for (role, on_cluster) in [("admin", "admin"), ("member", "user")] {
        let changed =
            call(&stack, "PATCH", &membership, Some(&alice.token), Some(json!({ "role": role }))).await;
        assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
        for managed in [&one, &two] {
            account_becomes(&stack, &alice, &org, managed, &bob, on_cluster, "active").await;
        }
    }
    // An acknowledgement of an older revision leaves the newer change pending.
    let stale = post_as(
        &stack,
        &format!("/v1/agent/clusters/{one}/users/ack"),
        &one_token,
        json!({ "revision": 2, "results": [{ "user_id": bob.sub, "status": "applied" }] }),
    )
    .await;
    assert_eq!(stale.body, json!({ "recorded": 0, "stale": 1 }));

    // The second cluster is stopped; Alice removes Bob: blocked everywhere, pending until pulled.
    settles(&stack, &alice, &org, &two, "running").await;
    assert_eq!(act(&stack, &alice, &org, &two, "stop").await.status, StatusCode::ACCEPTED);
    settles(&stack, &alice, &org, &two, "stopped").await;
    assert_eq!(
        call(&stack, "DELETE", &membership, Some(&alice.token), None).await.status,
        StatusCode::NO_CONTENT
    );
    for managed in [&one, &two] {
        let blocked = account_becomes(&stack, &alice, &org, managed, &bob, "user", "blocked").await;
        assert_eq!(blocked["delivery"], "pending");
    }
    // When the stopped cluster's agent next pulls, the block is there, as Bob's latest record.
    let later = pull(&stack, &two, &two_token, 0).await;
    let bobs: Vec<&Value> = later.body["users"]
        .as_array()
        .expect("users")
        .iter()
        .filter(|u| u["user_id"] == bob.sub.as_str())
        .collect();
    assert_eq!(bobs.len(), 1, "one record per user: {:?}", later.body);
    assert_eq!(bobs[0]["status"], "blocked");
    assert_eq!(later.body["revision"], later.body["latest_revision"]);

    // Each node's credential opens its own cluster only; revoking the cluster's node credentials
    // stops them at once, and the node enrolls again.
    assert_eq!(pull(&stack, &two, &one_token, 0).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(pull(&stack, &one, "ocn_guessed", 0).await.status, StatusCode::UNAUTHORIZED);
    let revoked = revoke_nodes(&stack, &alice, &org, &one).await;
    assert_eq!(revoked.status, StatusCode::OK, "{:?}", revoked.body);
    assert_eq!(revoked.body["revoked"], 1);
    assert_eq!(pull(&stack, &one, &one_token, 0).await.status, StatusCode::UNAUTHORIZED);
    let head = instances(&stack, &alice, &org, &one).await.remove(0);
    let again = enroll(&stack, &org, &one, &head, &nonce()).await;
    assert_eq!(again.status, StatusCode::OK, "{:?}", again.body);
    let new_token = again.body["credential"].as_str().expect("a new credential");
    assert_eq!(pull(&stack, &one, new_token, 0).await.status, StatusCode::OK);
    // Bob, removed, and a plain member never see a cluster's accounts.
    assert_eq!(
        get(&stack, &format!("/v1/organizations/{org}/clusters/{one}/users"), &bob).await.status,
        StatusCode::NOT_FOUND
    );
    // No read shows a credential.
    let read = get(&stack, &format!("/v1/organizations/{org}/clusters/{one}"), &alice).await;
    assert!(!read.body.to_string().contains("ocn_"), "{:?}", read.body);
}

async fn post_as(stack: &local_stack::Stack, path: &str, token: &str, body: Value) -> crate::support::Answer {
    call(stack, "POST", path, Some(token), Some(body)).await
}

#[tokio::test]
async fn a_cluster_created_later_has_every_member_from_revision_one() {
    let stack = stack().await;
    let (alice, org) = alice_connected(&stack).await;
    let bob = register(&stack, &email("bob")).await;
    let id = invite(&stack, &alice, &org, &bob.email).await;
    post(&stack, &format!("/v1/invitations/{id}/accept"), &bob, json!({})).await;
    let (later, token) = cluster(&stack, &alice, &org, "later", "managed").await;
    // Both records, before the agent pulls: Bob's may be written by the sync of his joining (when
    // the stream reaches it after the cluster exists) and Alice's by the cluster's, a moment apart.
    account_becomes(&stack, &alice, &org, &later, &bob, "user", "active").await;
    account_becomes(&stack, &alice, &org, &later, &alice, "admin", "active").await;
    let pulled = pull(&stack, &later, &token, 0).await;
    let mut seen: Vec<(String, String, u64)> = pulled.body["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| {
            (
                u["user_id"].as_str().unwrap_or("").to_owned(),
                u["role"].as_str().unwrap_or("").to_owned(),
                u["revision"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    seen.sort_by_key(|s| s.2);
    let mut revisions: Vec<u64> = seen.iter().map(|s| s.2).collect();
    revisions.sort_unstable();
    assert_eq!(revisions, [1, 2], "{seen:?}");
    let roles: std::collections::BTreeMap<&str, &str> =
        seen.iter().map(|(u, r, _)| (u.as_str(), r.as_str())).collect();
    assert_eq!(roles.get(alice.sub.as_str()), Some(&"admin"));
    assert_eq!(roles.get(bob.sub.as_str()), Some(&"user"));
}

/// The records of `cluster` as (user, role, status, revision), sorted.
async fn snapshot(stack: &local_stack::Stack, cluster: &str) -> Vec<(String, String, String, u64)> {
    let id = orgs::domain::ClusterId::parse(cluster).expect("uuid");
    let mut records: Vec<_> = stack
        .api
        .store
        .cluster_users(&id)
        .await
        .expect("records")
        .into_iter()
        .map(|u| {
            let v = serde_json::to_value(&u).expect("json");
            (
                u.user_id.to_string(),
                v["role"].as_str().unwrap_or("").to_owned(),
                v["status"].as_str().unwrap_or("").to_owned(),
                u.revision,
            )
        })
        .collect();
    records.sort();
    records
}

async fn deliver(stack: &local_stack::Stack, records: &[Value]) -> Vec<String> {
    let event = serde_json::from_value(json!({ "Records": records })).expect("a stream event");
    let response = local_stack::identity::as_function(
        "dispatch-table-stream",
        dispatch_table_stream::handle(&stack.followers, LambdaEvent::new(event, Default::default())),
    )
    .await
    .expect("handled");
    response.batch_item_failures.into_iter().filter_map(|f| f.item_identifier).collect()
}

#[tokio::test]
async fn redelivered_duplicated_and_no_op_records_change_nothing_and_a_poison_record_alone_is_reported() {
    // No pump: this test is the stream's delivery.
    let stack =
        stack_with(local_stack::StackOptions { pump: false, ..local_stack::StackOptions::for_test() }).await;
    let (alice, org) = alice_connected(&stack).await;
    let managed = created(&stack, &alice, &org, "managed", "managed").await;
    let bob = register(&stack, &email("bob")).await;
    let id = invite(&stack, &alice, &org, &bob.email).await;
    post(&stack, &format!("/v1/invitations/{id}/accept"), &bob, json!({})).await;
    let membership = format!("/v1/organizations/{org}/members/{}", bob.sub);
    call(&stack, "PATCH", &membership, Some(&alice.token), Some(json!({ "role": "admin" }))).await;

    let sdk = emulator().await.sdk_config().await;
    let context = stack.event_context(&sdk);
    let record = |event: Value| event["Records"][0].clone();
    let created = record(
        context
            .stream_record_where(|c| matches!(c, Change::Cluster { kind: Kind::Insert, cluster, .. } if cluster.to_string() == managed))
            .await
            .expect("cluster"),
    );
    let joined = record(
        context
            .stream_record_where(
                |c| matches!(c, Change::Member { kind: Kind::Insert, user, .. } if user.as_str() == bob.sub),
            )
            .await
            .expect("joined"),
    );
    let promoted = record(
        context
            .stream_record_where(|c| matches!(c, Change::Member { kind: Kind::Modify, user, role_changed: true, .. } if user.as_str() == bob.sub))
            .await
            .expect("promoted"),
    );
    let batch = [created.clone(), joined.clone(), promoted.clone(), joined.clone()];

    assert!(deliver(&stack, &batch).await.is_empty());
    let first = snapshot(&stack, &managed).await;
    assert_eq!(
        first.iter().map(|(_, role, status, _)| (role.as_str(), status.as_str())).collect::<Vec<_>>(),
        [("admin", "active"); 2],
        "{first:?}"
    );
    for _ in 0..2 {
        assert!(deliver(&stack, &batch).await.is_empty());
        assert_eq!(snapshot(&stack, &managed).await, first, "the same records and revisions");
    }

    // A no-op update still streams a record (the emulator does): nothing changes.
    let table = &stack.options.table;
    aws_sdk_dynamodb::Client::new(&sdk)
        .update_item()
        .table_name(table)
        .set_key(Some(local_stack::table::key::membership(
            &orgs::domain::OrgId::parse(&org).expect("org"),
            &orgs::domain::UserId::parse(&bob.sub).expect("user"),
        )))
        .update_expression("SET #role = #role")
        .expression_attribute_names("#role", "role")
        .send()
        .await
        .expect("a no-op update");
    let no_op = record(
        context
            .stream_record_where(
                |c| matches!(c, Change::Member { kind: Kind::Modify, user, .. } if user.as_str() == bob.sub),
            )
            .await
            .expect("no-op"),
    );
    assert!(deliver(&stack, &[no_op]).await.is_empty());
    assert_eq!(snapshot(&stack, &managed).await, first);

    // A poison record at position 2 is the only one reported; the batch stops there.
    let mut poison = joined.clone();
    poison["dynamodb"]["NewImage"]["org_id"] = json!({ "S": "not-an-organization" });
    poison["dynamodb"]["SequenceNumber"] = json!("999999999999999999999");
    let failed = deliver(&stack, &[created, joined, poison, promoted]).await;
    assert_eq!(failed, ["999999999999999999999"]);
}

#[tokio::test]
async fn a_member_joining_an_organization_with_a_thousand_managed_clusters_is_written_in_batches() {
    let options = local_stack::StackOptions {
        pump: false,
        pricing: orgs::config::Pricing { trial: Credits::from_millis(10_000_000), ..Default::default() },
        ..local_stack::StackOptions::for_test()
    };
    let stack = stack_with(options).await;
    let (alice, org) = alice_connected(&stack).await;
    let org_id = OrgId::parse(&org).expect("org");
    let store = &stack.api.store;
    let alice_id = UserId::parse(&alice.sub).expect("alice");
    let (organization, membership) =
        store.organization_for(&org_id, &alice_id).await.expect("read").expect("member");
    let grant = orgs::domain::authz::may(
        &membership,
        &organization.settings,
        orgs::domain::authz::Action::ManageClusters,
    )
    .expect("allowed");
    let account = store
        .cloud_account_view(&org_id, orgs::store::Reader::Member(&alice_id))
        .await
        .expect("read as a member")
        .account
        .expect("connected");
    let mut clusters = Vec::new();
    for i in 0..1000 {
        let spec: orgs::domain::ClusterSpec = serde_json::from_value(
            json!({ "name": format!("c{i}"), "instance_type": "m5.large", "workers": 0, "user_management": "managed" }),
        )
        .expect("spec");
        let cluster = orgs::domain::Cluster::pending(
            org_id,
            spec,
            &alice_id,
            &account,
            &Default::default(),
            stack.api.now(),
        )
        .expect("cluster");
        store.create_cluster(&membership, &grant, &cluster, &account, 1000).await.expect("created");
        clusters.push(cluster.cluster_id);
    }
    let bob = register(&stack, &email("bob")).await;
    let id = invite(&stack, &alice, &org, &bob.email).await;
    post(&stack, &format!("/v1/invitations/{id}/accept"), &bob, json!({})).await;

    // The sync as Lambda runs it, through the client that counts calls.
    let sdk = emulator().await.sdk_config().await;
    let joined = stack
        .event_context(&sdk)
        .stream_record_where(
            |c| matches!(c, Change::Member { kind: Kind::Insert, user, .. } if user.as_str() == bob.sub),
        )
        .await
        .expect("joined");
    let counted = dispatch_table_stream::Followers {
        users: std::sync::Arc::new(sync_cluster_users::UserSync {
            store: store.clone(),
            clock: stack.api.clock.clone(),
        }),
        names: stack.name_sync.clone(),
        provisioner: stack.provisioner.clone(),
        webhooks: store.clone(),
    };
    stack.calls.take();
    let started = std::time::Instant::now();
    let response = local_stack::identity::as_function(
        "dispatch-table-stream",
        dispatch_table_stream::handle(
            &counted,
            LambdaEvent::new(serde_json::from_value(joined).expect("event"), Default::default()),
        ),
    )
    .await
    .expect("handled");
    assert!(response.batch_item_failures.is_empty());
    let calls = stack.calls.take();
    let count = |name: &str| calls.iter().filter(|c| *c == name).count();
    let batches = 1000 / orgs::store::CLUSTERS_PER_WRITE;
    println!(
        "a member joining 1000 managed clusters: {} ms, {} calls: {} GetItem, {} Query, {} BatchGetItem, {} TransactWriteItems",
        started.elapsed().as_millis(),
        calls.len(),
        count("GetItem"),
        count("Query"),
        count("BatchGetItem"),
        count("TransactWriteItems")
    );
    // Plus, once: the reads of Bob's Linux account (with the uid counter) and of his SSH keys (at
    // once), and the write giving him the account.
    assert_eq!((count("BatchGetItem"), count("TransactWriteItems")), (batches + 2, batches + 1), "{calls:?}");
    // One for the user sync, and one for the organization's webhook endpoints (none: no write).
    assert_eq!(count("GetItem"), 2, "{calls:?}");
    for cluster in &clusters {
        let records = store.cluster_users(cluster).await.expect("records");
        assert!(records.iter().any(|r| r.user_id.as_str() == bob.sub), "Bob has no account on {cluster}");
    }
}

#[tokio::test]
pub(crate) async fn an_idle_cluster_is_stopped_and_a_silent_one_only_flagged() {
    let stack = stack().await;
    stack.clock.freeze();
    let (alice, org) = alice_connected(&stack).await;
    let body = json!({ "name": "idle", "instance_type": "m5.large", "workers": 0, "user_management": "managed", "idle_stop_minutes": 30 });
    let created = post(&stack, &format!("/v1/organizations/{org}/clusters"), &alice, body).await;
    assert_eq!(created.status, StatusCode::ACCEPTED, "{:?}", created.body);
    let idle = created.body["cluster_id"].as_str().expect("id").to_owned();
    let body = json!({ "name": "silent", "instance_type": "m5.large", "workers": 0, "user_management": "managed", "idle_stop_minutes": 10 });
    let silent =
        post(&stack, &format!("/v1/organizations/{org}/clusters"), &alice, body).await.body["cluster_id"]
            .as_str()
            .expect("id")
            .to_owned();
    settles(&stack, &alice, &org, &silent, "running").await;
    let head = instances(&stack, &alice, &org, &idle).await.remove(0);
    let enrolled = enroll(&stack, &org, &idle, &head, &nonce()).await;
    assert_eq!(enrolled.status, StatusCode::OK, "{:?}", enrolled.body);
    let token = enrolled.body["credential"].as_str().expect("credential").to_owned();
    let beat = |sessions: u32, last: Option<orgs::domain::Timestamp>| {
        let (stack, idle, token) = (&stack, &idle, &token);
        async move {
            let body =
                json!({ "active_sessions": sessions, "last_activity_at": last.map(|t| t.to_string()) });
            let answer = post_as(stack, &format!("/v1/agent/clusters/{idle}/heartbeat"), token, body).await;
            assert_eq!(answer.status, StatusCode::NO_CONTENT, "{:?}", answer.body);
        }
    };
    let reconcile = || async {
        local_stack::identity::as_function(
            "reconcile-clusters",
            reconcile_clusters::reconcile(&stack.reconciler),
        )
        .await
        .expect("ran")
    };

    beat(2, None).await;
    stack.clock.advance(Duration::minutes(16));
    beat(0, Some(stack.api.now())).await;
    let report = reconcile().await;
    assert_eq!(
        (report.stopped_idle, report.agent_silent),
        (0, 1),
        "the silent cluster is flagged: {report:?}"
    );
    let flagged = get(&stack, &format!("/v1/organizations/{org}/clusters/{silent}"), &alice).await;
    assert_eq!(flagged.body["state"], "running", "flagged, not stopped");
    assert!(
        flagged.body["last_error"].as_str().is_some_and(|e| e.starts_with("AgentSilent")),
        "{:?}",
        flagged.body
    );

    // Idle since 16 minutes in: at 44 minutes still under 30 idle, at 47 over it.
    let last_activity = stack.api.now();
    stack.clock.advance(Duration::minutes(28));
    beat(0, Some(last_activity)).await;
    assert_eq!(reconcile().await.stopped_idle, 0);
    stack.clock.advance(Duration::minutes(3));
    beat(0, Some(last_activity)).await;
    assert_eq!(reconcile().await.stopped_idle, 1);
    settles(&stack, &alice, &org, &idle, "stopped").await;
    let events = get(&stack, &format!("/v1/organizations/{org}/events"), &alice).await;
    let stop = events.body["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["action"] == "cluster_stopped_idle")
        .cloned()
        .unwrap_or_else(|| panic!("no idle stop in the audit log: {}", events.body));
    assert_eq!(
        (stop["actor"].clone(), stop["details"]["cluster_id"].clone()),
        (json!({ "service": "idle_stop" }), json!(idle))
    );
    // Out-of-range settings are refused.
    for minutes in [5, 2000] {
        let body = json!({ "name": "x", "instance_type": "m5.large", "workers": 0, "user_management": "managed", "idle_stop_minutes": minutes });
        assert_problem(
            &post(&stack, &format!("/v1/organizations/{org}/clusters"), &alice, body).await,
            400,
            "idle_stop_minutes",
        );
    }
}

/// Ten syncs of one cluster at the same moment (what two concurrent invocations would do): the
/// counter's condition gives each change a revision of its own, with none skipped.
#[tokio::test]
async fn concurrent_syncs_of_one_cluster_take_distinct_consecutive_revisions() {
    let stack =
        stack_with(local_stack::StackOptions { pump: false, ..local_stack::StackOptions::for_test() }).await;
    let (alice, org) = alice_connected(&stack).await;
    let managed = created(&stack, &alice, &org, "busy", "managed").await;
    let mut members = Vec::new();
    for i in 0..10 {
        let member = register(&stack, &email(&format!("m{i}"))).await;
        let id = invite(&stack, &alice, &org, &member.email).await;
        post(&stack, &format!("/v1/invitations/{id}/accept"), &member, json!({})).await;
        members.push(UserId::parse(&member.sub).expect("id"));
    }
    let org_id = OrgId::parse(&org).expect("org");
    let now = stack.api.now();
    let store = &stack.api.store;
    let written = futures::future::join_all(members.iter().map(|m| store.sync_member(&org_id, m, now))).await;
    for w in written {
        assert_eq!(w.expect("synced"), 1);
    }
    // What a node would pull (no stream runs here to launch one), read as the agent API reads it.
    let cluster_id = orgs::domain::ClusterId::parse(&managed).expect("cluster");
    let pulled =
        serde_json::to_value(store.cluster_user_changes(&cluster_id, 0, 100).await.expect("changes"))
            .expect("json");
    let mut revisions: Vec<u64> =
        pulled["users"].as_array().expect("users").iter().filter_map(|u| u["revision"].as_u64()).collect();
    revisions.sort_unstable();
    assert_eq!(revisions, (1..=10).collect::<Vec<u64>>(), "{pulled:?}");
    assert_eq!(pulled["latest_revision"], 10);
}
