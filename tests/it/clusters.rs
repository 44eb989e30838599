//! Clusters in the organization's own account: Alice connects it, Bob deploys in it without
//! configuring anything, everyone sees the same clusters, and the state machine holds under races.

use futures::future::join;
use orgs::cloud::Target;
use orgs::cloud::ec2::query::{Ec2, Params, items, text};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

const ROLE: &str = "arn:aws:iam::111122223333:role/orgs-clusters";

/// Alice's organization connected to account 111122223333, with Bob as a plain member.
pub(crate) async fn connected(stack: &local_stack::Stack) -> (User, User, String) {
    let alice = register(stack, &email("alice")).await;
    let org = personal_org(stack, &alice).await;
    let bob = register(stack, &email("bob")).await;
    let id = invite(stack, &alice, &org, &bob.email).await;
    post(stack, &format!("/v1/invitations/{id}/accept"), &bob, json!({})).await;
    connect(stack, &alice, &org).await;
    (alice, bob, org)
}

/// Connects `org` to account 111122223333 as `who`.
pub(crate) async fn connect(stack: &local_stack::Stack, who: &User, org: &str) {
    connect_to(stack, who, org, ROLE).await;
}

/// Connects `org` to `role` as `who`, the customer's role trusting the service first.
pub(crate) async fn connect_to(stack: &local_stack::Stack, who: &User, org: &str, role: &str) {
    stack.customer_trusts(role, org).await.expect("the customer's role trusts the service");
    let account = json!({ "provider": "aws", "role_arn": role, "region": "eu-west-1" });
    let saved = call(
        stack,
        "PUT",
        &format!("/v1/organizations/{org}/cloud-account"),
        Some(&who.token),
        Some(account),
    )
    .await;
    assert_eq!(saved.status, StatusCode::OK, "{:?}", saved.body);
}

pub(crate) async fn create(
    stack: &local_stack::Stack,
    who: &User,
    org: &str,
    name: &str,
    workers: u32,
) -> Answer {
    let body = json!({ "name": name, "instance_type": "m5.large", "workers": workers, "user_management": "managed" });
    post(stack, &format!("/v1/organizations/{org}/clusters"), who, body).await
}

pub(crate) async fn act(
    stack: &local_stack::Stack,
    who: &User,
    org: &str,
    cluster: &str,
    action: &str,
) -> Answer {
    post(stack, &format!("/v1/organizations/{org}/clusters/{cluster}/{action}"), who, json!({})).await
}

/// Waits until the provisioner has moved the cluster to `state`.
pub(crate) async fn settles(
    stack: &local_stack::Stack,
    viewer: &User,
    org: &str,
    cluster: &str,
    state: &str,
) -> Value {
    let path = format!("/v1/organizations/{org}/clusters/{cluster}");
    eventually(&format!("cluster {cluster} {state}"), || async {
        let answer = get(stack, &path, viewer).await;
        (answer.body["state"] == state).then_some(answer.body)
    })
    .await
}

pub(crate) async fn target(stack: &local_stack::Stack, org: &str) -> Target {
    let org = orgs::domain::OrgId::parse(org).expect("org");
    stack.api.store.cloud_target(&org).await.expect("read").expect("connected")
}

/// EC2 in `org`'s account, as the customer's own administrator sees it through the role.
pub(crate) async fn customer_ec2(stack: &local_stack::Stack, org: &str) -> Ec2 {
    let target = target(stack, org).await;
    let sdk = emulator().await.customer_sdk_config().await;
    let credentials = orgs::cloud::assume_credentials(&sdk, &target).await.expect("assumed");
    Ec2::new(sdk.endpoint_url(), target.region.as_str(), credentials).expect("EC2 client")
}

/// The cluster's own port security group, when it exists: its id and the ports it allows.
async fn port_group(ec2: &Ec2, cluster: &str) -> Option<(String, Vec<u16>)> {
    let params = Params::new()
        .set("Filter.1.Name", "group-name")
        .set("Filter.1.Value.1", format!("orgs-cluster-{cluster}"));
    let answer = ec2.call("EC2 DescribeSecurityGroups", "DescribeSecurityGroups", &params).await.ok()?;
    let doc = answer.doc().ok()?;
    let group = items(doc.root_element(), "securityGroupInfo").next()?;
    let ports = items(group, "ipPermissions").filter_map(|p| text(p, "fromPort")?.parse().ok()).collect();
    Some((text(group, "groupId")?.to_owned(), ports))
}

/// The security groups `instance` is in, as EC2 describes it.
async fn groups_of(ec2: &Ec2, instance: &str) -> Vec<String> {
    let params = Params::new().set("InstanceId.1", instance);
    let answer = ec2.call("EC2 DescribeInstances", "DescribeInstances", &params).await.expect("described");
    let doc = answer.doc().expect("xml");
    let instance = items(doc.root_element(), "reservationSet")
        .flat_map(|r| items(r, "instancesSet"))
        .next()
        .expect("the instance");
    items(instance, "groupSet").filter_map(|g| text(g, "groupId").map(str::to_owned)).collect()
}

/// The instance ids of a cluster as the API shows it.
pub(crate) fn instance_ids(body: &Value) -> Vec<String> {
    body["instances"]
        .as_array()
        .expect("instances")
        .iter()
        .filter_map(|i| i.as_str().map(str::to_owned))
        .collect()
}

/// EC2 as the customer's own administrator reaches it, through the role.
pub(crate) async fn customer_fleet() -> orgs::cloud::ec2::Ec2Fleet {
    // (When the customer launches an instance of their own, it boots the same agent.)
    let bootstrap = local_stack::node_bootstrap("http://127.0.0.1:9").expect("bootstrap");
    orgs::cloud::ec2::Ec2Fleet::new(emulator().await.customer_sdk_config().await, local_stack::CLUSTER_IMAGE)
        .with_bootstrap(bootstrap)
}

/// The cluster's instances and their EC2 states, asked as the customer's role.
async fn instances_in_customer_account(stack: &local_stack::Stack, org: &str, cluster: &str) -> Vec<String> {
    let id = orgs::domain::ClusterId::parse(cluster).expect("uuid");
    // EC2 as it is, not through the fleet a test may have told to refuse.
    orgs::cloud::Fleet::find(&customer_fleet().await, &target(stack, org).await, &id)
        .await
        .expect("find")
        .into_iter()
        .map(|i| i.state)
        .collect()
}

#[tokio::test]
pub(crate) async fn bob_deploys_in_alices_account_and_everyone_runs_the_same_cluster() {
    let stack = stack().await;
    let (alice, bob, org) = connected(&stack).await;

    let created = create(&stack, &bob, &org, "analytics", 2).await;
    assert_eq!(created.status, StatusCode::ACCEPTED, "{:?}", created.body);
    assert_eq!(created.body["state"], "pending");
    let cluster = created.body["cluster_id"].as_str().expect("id").to_owned();
    let running = settles(&stack, &alice, &org, &cluster, "running").await;
    assert_eq!(running["account_id"], "111122223333");
    assert_eq!(running["created_by"], bob.sub.as_str());
    assert_eq!(running["instances"].as_array().map(Vec::len), Some(3), "a head and two workers");

    // The instances are in Alice's account, not the service's own.
    assert_eq!(instances_in_customer_account(&stack, &org, &cluster).await, ["running"; 3]);
    let own = Ec2::from_config(&emulator().await.sdk_config().await).await.expect("EC2 as the service");
    let params = Params::new().set("Filter.1.Name", "tag:orgs:cluster-id").set("Filter.1.Value.1", &cluster);
    let own = own
        .call("EC2 DescribeInstances", "DescribeInstances", &params)
        .await
        .expect("describe as the service");
    let own = own.doc().expect("xml");
    let own: Vec<_> = items(own.root_element(), "reservationSet").collect();
    assert!(own.is_empty(), "nothing of it in the service's account");

    // Carol, a stranger, sees nothing.
    let carol = register(&stack, &email("carol")).await;
    assert_problem(
        &get(&stack, &format!("/v1/organizations/{org}/clusters"), &carol).await,
        404,
        "a stranger's list",
    );
    assert_problem(
        &get(&stack, &format!("/v1/organizations/{org}/clusters/{cluster}"), &carol).await,
        404,
        "a stranger",
    );
    let listed = get(&stack, &format!("/v1/organizations/{org}/clusters"), &alice).await;
    assert_eq!(listed.body["clusters"][0]["cluster_id"], cluster.as_str(), "Alice sees Bob's cluster");

    // Members may no longer manage clusters: Bob still stops and starts, but cannot terminate.
    let settings = json!({
        "members_can_invite": false,
        "members_can_manage_clusters": false,
        "members_can_open_ports": false,
        "invitation_ttl_days": 7,
    });
    let path = format!("/v1/organizations/{org}/permissions");
    assert_eq!(call(&stack, "PUT", &path, Some(&alice.token), Some(settings)).await.status, StatusCode::OK);
    assert_eq!(act(&stack, &bob, &org, &cluster, "stop").await.status, StatusCode::ACCEPTED);
    settles(&stack, &alice, &org, &cluster, "stopped").await;
    assert_eq!(instances_in_customer_account(&stack, &org, &cluster).await, ["stopped"; 3]);
    assert_problem(&act(&stack, &bob, &org, &cluster, "stop").await, 409, "stopping a stopped cluster");
    assert_eq!(act(&stack, &bob, &org, &cluster, "start").await.status, StatusCode::ACCEPTED);
    settles(&stack, &bob, &org, &cluster, "running").await;
    assert_problem(&act(&stack, &bob, &org, &cluster, "terminate").await, 403, "Bob terminating");
    assert_problem(&create(&stack, &bob, &org, "another", 0).await, 403, "Bob creating");

    // While it lives, the account stays; terminated, it may change.
    let other = json!({ "provider": "aws", "role_arn": "arn:aws:iam::444455556666:role/other", "region": "eu-west-1" });
    let account = format!("/v1/organizations/{org}/cloud-account");
    stack.customer_trusts("arn:aws:iam::444455556666:role/other", &org).await.expect("trusted");
    let refused = call(&stack, "PUT", &account, Some(&alice.token), Some(other.clone())).await;
    assert_problem(&refused, 409, "changing the account under a live cluster");
    assert!(refused.body["detail"].as_str().is_some_and(|d| d.contains("analytics")), "{:?}", refused.body);
    assert_eq!(act(&stack, &alice, &org, &cluster, "terminate").await.status, StatusCode::ACCEPTED);
    settles(&stack, &alice, &org, &cluster, "terminated").await;
    assert!(instances_in_customer_account(&stack, &org, &cluster).await.is_empty(), "all terminated");
    assert_problem(
        &act(&stack, &alice, &org, &cluster, "start").await,
        409,
        "a terminated cluster never comes back",
    );
    assert_eq!(call(&stack, "PUT", &account, Some(&alice.token), Some(other)).await.status, StatusCode::OK);

    let log = get(&stack, &format!("/v1/organizations/{org}/events?limit=100"), &alice).await;
    let cluster_events: Vec<(String, String)> = log.body["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["details"]["cluster_id"] == cluster.as_str())
        .map(|e| {
            let what =
                e["details"]["action"].as_str().unwrap_or(e["action"].as_str().unwrap_or("")).to_owned();
            (what, e["actor"]["email"].as_str().unwrap_or("").to_owned())
        })
        .collect();
    assert_eq!(
        cluster_events,
        [
            ("terminate".to_owned(), alice.email.clone()),
            ("start".to_owned(), bob.email.clone()),
            ("stop".to_owned(), bob.email.clone()),
            ("cluster_created".to_owned(), bob.email.clone()),
        ]
    );
}

#[tokio::test]
pub(crate) async fn a_cluster_needs_an_account_and_sensible_sizes() {
    let stack = stack().await;
    let alice = register(&stack, &email("alice")).await;
    let org = personal_org(&stack, &alice).await;
    assert_problem(&create(&stack, &alice, &org, "analytics", 1).await, 409, "no account yet");
    let (alice, _bob, org) = connected(&stack).await;
    for (body, why) in [
        (
            json!({ "name": "Analytics", "instance_type": "m5.large", "workers": 1, "user_management": "managed" }),
            "a name with capitals",
        ),
        (
            json!({ "name": "a", "instance_type": "large", "workers": 1, "user_management": "managed" }),
            "an instance type",
        ),
        (
            json!({ "name": "a", "instance_type": "m5.large", "workers": 51, "user_management": "managed" }),
            "too many workers",
        ),
        (
            json!({ "name": "a", "instance_type": "m5.large", "workers": 1, "user_management": "sometimes" }),
            "a mode",
        ),
    ] {
        assert_problem(
            &post(&stack, &format!("/v1/organizations/{org}/clusters"), &alice, body).await,
            400,
            why,
        );
    }
}

/// Two writes from one reading of a cluster cannot both land, whatever they are: the store's
/// condition on the state read is what decides. Through the API, two starts start once; a start
/// and a terminate both succeed only in that order (terminating a starting cluster is allowed),
/// and a terminated cluster never comes back.
#[tokio::test]
async fn two_actions_on_one_cluster_cannot_both_win() {
    use orgs::domain::Transition as T;
    let stack = stack().await;
    let (alice, bob, org) = connected(&stack).await;
    let store = &stack.api.store;
    let org_id = orgs::domain::OrgId::parse(&org).expect("org");
    for round in 0..3 {
        let cluster = create(&stack, &alice, &org, &format!("api-{round}"), 0).await.body["cluster_id"]
            .as_str()
            .expect("id")
            .to_owned();
        let other = create(&stack, &alice, &org, &format!("store-{round}"), 0).await.body["cluster_id"]
            .as_str()
            .expect("id")
            .to_owned();

        // One reading, two writes at once: a stop and a terminate of the running cluster.
        settles(&stack, &alice, &org, &other, "running").await;
        let id = orgs::domain::ClusterId::parse(&other).expect("uuid");
        let read = store.cluster(&org_id, &id).await.expect("read").expect("the cluster");
        let now = stack.api.now();
        let (stopped, terminated) = join(
            store.transition(&read, T::Stop, None, Default::default(), now),
            store.transition(&read, T::Terminate, None, Default::default(), now),
        )
        .await;
        assert!(stopped.is_ok() != terminated.is_ok(), "round {round}: {stopped:?} / {terminated:?}");
        let lost = stopped.as_ref().err().or(terminated.as_ref().err()).expect("a loser");
        assert!(matches!(lost, orgs::domain::DomainError::Conflict(_)), "round {round}: {lost:?}");
        settles(&stack, &alice, &org, &other, if stopped.is_ok() { "stopped" } else { "terminated" }).await;

        settles(&stack, &alice, &org, &cluster, "running").await;
        assert_eq!(act(&stack, &alice, &org, &cluster, "stop").await.status, StatusCode::ACCEPTED);
        settles(&stack, &alice, &org, &cluster, "stopped").await;

        // Two members start it at once: it starts once.
        let (by_bob, by_alice) =
            join(act(&stack, &bob, &org, &cluster, "start"), act(&stack, &alice, &org, &cluster, "start"))
                .await;
        let won = [&by_bob, &by_alice].iter().filter(|a| a.status == StatusCode::ACCEPTED).count();
        assert_eq!(won, 1, "round {round}: {:?} / {:?}", by_bob.body, by_alice.body);
        let loser = if by_bob.status == StatusCode::ACCEPTED { &by_alice } else { &by_bob };
        assert_problem(loser, 409, &format!("round {round}: the second start"));
        settles(&stack, &alice, &org, &cluster, "running").await;
        assert_eq!(act(&stack, &alice, &org, &cluster, "stop").await.status, StatusCode::ACCEPTED);
        settles(&stack, &alice, &org, &cluster, "stopped").await;

        // Bob starts while Alice terminates.
        let (started, terminated) = join(
            act(&stack, &bob, &org, &cluster, "start"),
            act(&stack, &alice, &org, &cluster, "terminate"),
        )
        .await;
        let end = match (started.status, terminated.status) {
            // Both, so the start came first: it was a starting cluster Alice terminated.
            (StatusCode::ACCEPTED, StatusCode::ACCEPTED) => "terminated",
            (StatusCode::ACCEPTED, _) => {
                assert_problem(&terminated, 409, &format!("round {round}: the terminate"));
                "running"
            }
            (_, StatusCode::ACCEPTED) => {
                assert_problem(&started, 409, &format!("round {round}: the start"));
                "terminated"
            }
            _ => panic!("round {round}: neither won: {:?} / {:?}", started.body, terminated.body),
        };
        settles(&stack, &alice, &org, &cluster, end).await;
        if end == "terminated" {
            assert!(instances_in_customer_account(&stack, &org, &cluster).await.is_empty(), "round {round}");
            assert_problem(&act(&stack, &bob, &org, &cluster, "start").await, 409, "a terminated cluster");
        }
    }
}

#[tokio::test]
async fn a_redelivered_or_repeated_launch_never_makes_a_second_set_of_instances() {
    // No pump: the test is the stream's delivery, and delivers the same record twice.
    let stack =
        stack_with(local_stack::StackOptions { pump: false, ..local_stack::StackOptions::for_test() }).await;
    let (alice, _bob, org) = connected(&stack).await;
    let cluster =
        create(&stack, &alice, &org, "twice", 1).await.body["cluster_id"].as_str().expect("id").to_owned();
    let sdk = emulator().await.sdk_config().await;
    let event = stack
        .event_context(&sdk)
        .stream_record_where(|c| {
            matches!(c, orgs::store::stream::Change::Cluster { kind: orgs::store::stream::Kind::Insert, cluster: id, .. } if id.to_string() == cluster)
        })
        .await
        .expect("the record");
    let deliver = || {
        let event = serde_json::from_value(event.clone()).expect("stream event");
        local_stack::identity::as_function(
            "dispatch-table-stream",
            dispatch_table_stream::handle(
                &stack.followers,
                lambda_runtime::LambdaEvent::new(event, Default::default()),
            ),
        )
    };

    // The launch went out but its confirmation was lost: the instances exist, the cluster is pending.
    let pending = stack
        .api
        .store
        .cluster(
            &orgs::domain::OrgId::parse(&org).expect("org"),
            &orgs::domain::ClusterId::parse(&cluster).expect("id"),
        )
        .await
        .expect("read")
        .expect("cluster");
    let launch = orgs::cloud::Launch {
        cluster_id: pending.cluster_id,
        org_id: pending.org_id,
        name: "twice".into(),
        instance_type: "m5.large".into(),
        count: 2,
    };
    let target = target(&stack, &org).await;
    let launched = stack.provisioner.fleet.launch(&target, &launch);
    local_stack::identity::as_function("dispatch-table-stream", launched).await.expect("launched");

    for _ in 0..3 {
        assert!(deliver().await.expect("handled").batch_item_failures.is_empty());
    }
    let running = get(&stack, &format!("/v1/organizations/{org}/clusters/{cluster}"), &alice).await;
    assert_eq!(running.body["state"], "running");
    assert_eq!(
        instances_in_customer_account(&stack, &org, &cluster).await.len(),
        2,
        "one set, found by its tag"
    );
}

#[tokio::test]
async fn a_cloud_refusal_leaves_the_cluster_in_error_with_the_code_and_a_retry_carries_on() {
    let stack = stack().await;
    let (alice, bob, org) = connected(&stack).await;
    stack.fleet.refuse(Some(("UnauthorizedOperation", "You are not authorized to perform this operation.")));

    let cluster =
        create(&stack, &bob, &org, "refused", 1).await.body["cluster_id"].as_str().expect("id").to_owned();
    let failed = settles(&stack, &alice, &org, &cluster, "error").await;
    assert!(
        failed["last_error"].as_str().is_some_and(|e| e.starts_with("UnauthorizedOperation")),
        "{failed:?}"
    );
    assert!(instances_in_customer_account(&stack, &org, &cluster).await.is_empty(), "nothing was launched");

    // The intent is not lost: once the account lets the service in, Bob starts it again.
    stack.fleet.refuse(None);
    assert_eq!(act(&stack, &bob, &org, &cluster, "start").await.status, StatusCode::ACCEPTED);
    let running = settles(&stack, &bob, &org, &cluster, "running").await;
    assert_eq!(running["last_error"], Value::Null, "cleared by the success");
    assert_eq!(instances_in_customer_account(&stack, &org, &cluster).await.len(), 2);
}

#[tokio::test]
pub(crate) async fn reconciliation_follows_instances_changed_behind_the_services_back() {
    let stack = stack().await;
    let (alice, _bob, org) = connected(&stack).await;
    let stopped = create(&stack, &alice, &org, "stopped-by-hand", 1).await.body["cluster_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let gone =
        create(&stack, &alice, &org, "gone", 0).await.body["cluster_id"].as_str().expect("id").to_owned();
    let steady =
        create(&stack, &alice, &org, "steady", 0).await.body["cluster_id"].as_str().expect("id").to_owned();
    for cluster in [&stopped, &gone, &steady] {
        settles(&stack, &alice, &org, cluster, "running").await;
    }
    let target = target(&stack, &org).await;
    let ids = |body: Value| instance_ids(&body);
    let path = |c: &str| format!("/v1/organizations/{org}/clusters/{c}");
    // Someone with the customer's credentials stops one cluster and terminates another in EC2.
    let customer = customer_fleet().await;
    orgs::cloud::Fleet::stop(&customer, &target, &ids(get(&stack, &path(&stopped), &alice).await.body))
        .await
        .expect("stopped");
    orgs::cloud::Fleet::terminate(&customer, &target, &ids(get(&stack, &path(&gone), &alice).await.body))
        .await
        .expect("gone");

    let report = local_stack::identity::as_function(
        "reconcile-clusters",
        reconcile_clusters::reconcile(&stack.reconciler),
    )
    .await
    .expect("reconciled");

    assert_eq!(
        (report.checked, report.stopped_externally, report.terminated_externally),
        (3, 1, 1),
        "{report:?}"
    );
    assert_eq!(get(&stack, &path(&stopped), &alice).await.body["state"], "stopped");
    assert_eq!(get(&stack, &path(&gone), &alice).await.body["state"], "terminated");
    assert_eq!(get(&stack, &path(&steady), &alice).await.body["state"], "running");
    // Done twice, nothing more changes.
    let again = local_stack::identity::as_function(
        "reconcile-clusters",
        reconcile_clusters::reconcile(&stack.reconciler),
    )
    .await
    .expect("reconciled");
    assert_eq!(
        (again.checked, again.stopped_externally, again.terminated_externally),
        (2, 0, 0),
        "{again:?}"
    );
}

#[tokio::test]
pub(crate) async fn ports_open_in_the_clusters_security_group_for_whoever_may_open_them() {
    let stack = stack().await;
    let (alice, bob, org) = connected(&stack).await;
    let cluster =
        create(&stack, &alice, &org, "served", 1).await.body["cluster_id"].as_str().expect("id").to_owned();
    settles(&stack, &alice, &org, &cluster, "running").await;
    let port = |p: u16| format!("/v1/organizations/{org}/clusters/{cluster}/ports/{p}");

    assert_problem(
        &call(&stack, "PUT", &port(8080), Some(&bob.token), None).await,
        403,
        "a member, by default",
    );
    let opened = call(&stack, "PUT", &port(8080), Some(&alice.token), None).await;
    assert_eq!(opened.status, StatusCode::OK, "{:?}", opened.body);
    assert_eq!(opened.body["open_ports"], json!([8080]));
    assert_problem(&call(&stack, "PUT", &port(0), Some(&alice.token), None).await, 400, "port 0");
    assert_problem(
        &call(&stack, "PUT", &port(65535).replace("65535", "70000"), Some(&alice.token), None).await,
        400,
        "port 70000",
    );

    let settings = json!({
        "members_can_invite": false,
        "members_can_manage_clusters": true,
        "members_can_open_ports": true,
        "invitation_ttl_days": 7,
    });
    let path = format!("/v1/organizations/{org}/permissions");
    assert_eq!(call(&stack, "PUT", &path, Some(&alice.token), Some(settings)).await.status, StatusCode::OK);
    assert_eq!(
        call(&stack, "PUT", &port(443), Some(&bob.token), None).await.body["open_ports"],
        json!([443, 8080])
    );
    assert_eq!(
        call(&stack, "DELETE", &port(8080), Some(&bob.token), None).await.body["open_ports"],
        json!([443])
    );

    // The security group, as the customer's role sees it, follows: only 443 is open.
    let ec2 = customer_ec2(&stack, &org).await;
    let open = eventually("the security group to allow exactly 443", || async {
        let (_, ports) = port_group(&ec2, &cluster).await?;
        (ports == [443]).then_some(ports)
    })
    .await;
    assert_eq!(open, [443]);
}

#[tokio::test]
async fn opening_a_port_keeps_the_security_groups_the_customer_attached() {
    let stack = stack().await;
    let (alice, _bob, org) = connected(&stack).await;
    let cluster =
        create(&stack, &alice, &org, "watched", 1).await.body["cluster_id"].as_str().expect("id").to_owned();
    let running = settles(&stack, &alice, &org, &cluster, "running").await;
    let instances = instance_ids(&running);
    assert_eq!(instances.len(), 2);

    // The customer puts their own monitoring group on the cluster's instances.
    let ec2 = customer_ec2(&stack, &org).await;
    let params = Params::new()
        .set("GroupName", format!("monitoring-{}", &cluster[..8]))
        .set("GroupDescription", "the customer's own");
    let created = ec2.call("EC2 CreateSecurityGroup", "CreateSecurityGroup", &params).await.expect("created");
    let theirs = text(created.doc().expect("xml").root_element(), "groupId").expect("id").to_owned();
    for id in &instances {
        let mut groups = groups_of(&ec2, id).await;
        groups.push(theirs.clone());
        let params = Params::new().set("InstanceId", id).list("GroupId", &groups);
        ec2.call("EC2 ModifyInstanceAttribute", "ModifyInstanceAttribute", &params).await.expect("attached");
    }

    let port = format!("/v1/organizations/{org}/clusters/{cluster}/ports/8080");
    assert_eq!(call(&stack, "PUT", &port, Some(&alice.token), None).await.status, StatusCode::OK);

    let ours = eventually("the cluster's port group", || async {
        port_group(&ec2, &cluster).await.map(|(id, _)| id)
    })
    .await;
    for id in &instances {
        let groups = eventually("the instance in the port group", || async {
            let groups = groups_of(&ec2, id).await;
            groups.contains(&ours).then_some(groups)
        })
        .await;
        assert!(groups.contains(&theirs), "{id}: the customer's group stays: {groups:?}");
    }
}

#[tokio::test]
async fn an_organization_has_at_most_its_cap_of_live_clusters_even_created_in_parallel() {
    let mut options = local_stack::StackOptions::for_test();
    options.limits.max_live_clusters = 3;
    let stack = stack_with(options).await;
    let (alice, _bob, org) = connected(&stack).await;

    let answers = futures::future::join_all((0..6).map(|i| {
        let (stack, alice, org) = (&stack, &alice, &org);
        async move { create(stack, alice, org, &format!("c{i}"), 0).await }
    }))
    .await;
    let accepted: Vec<&Answer> = answers.iter().filter(|a| a.status == StatusCode::ACCEPTED).collect();
    let refused: Vec<&Answer> = answers.iter().filter(|a| a.status == StatusCode::CONFLICT).collect();
    assert_eq!(
        (accepted.len(), refused.len()),
        (3, 3),
        "{:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    for refusal in refused {
        assert!(
            refusal.body["detail"].as_str().is_some_and(|d| d.contains("its limit: terminate one first")),
            "{:?}",
            refusal.body
        );
    }

    // A cluster in `error` still counts (its instances may run); a terminated one frees its place.
    let first = accepted[0].body["cluster_id"].as_str().expect("id").to_owned();
    settles(&stack, &alice, &org, &first, "running").await;
    assert_problem(&create(&stack, &alice, &org, "fourth", 0).await, 409, "at the cap");
    assert_eq!(act(&stack, &alice, &org, &first, "terminate").await.status, StatusCode::ACCEPTED);
    settles(&stack, &alice, &org, &first, "terminated").await;
    assert_eq!(create(&stack, &alice, &org, "fourth", 0).await.status, StatusCode::ACCEPTED);
}
