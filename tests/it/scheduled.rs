//! The scheduled job serves every tenant: a failing organization never stops the run for the
//! others, a run that cannot visit every cluster carries on where it stopped, a cluster whose
//! stop failed is still charged and stopped again, and drift inside a cluster is noticed.

use orgs::cloud::Fleet;
use orgs::domain::{Credits, OrgId};
use reqwest::StatusCode;
use serde_json::json;
use time::Duration;

use crate::clusters::{act, connect_to, connected, create, customer_fleet, instance_ids, settles, target};
use crate::support::*;

async fn run(reconciler: &reconcile_clusters::Reconciler) -> reconcile_clusters::Report {
    local_stack::identity::as_function("reconcile-clusters", reconcile_clusters::reconcile(reconciler))
        .await
        .expect("the run itself never fails for one tenant")
}

fn id(answer: &Answer) -> String {
    answer.body["cluster_id"].as_str().unwrap_or_else(|| panic!("no id: {:?}", answer.body)).to_owned()
}

async fn cluster_item(stack: &local_stack::Stack, org: &str, cluster: &str) -> orgs::domain::Cluster {
    let org = OrgId::parse(org).expect("org");
    let cluster = orgs::domain::ClusterId::parse(cluster).expect("id");
    stack.api.store.cluster(&org, &cluster).await.expect("read").expect("exists")
}

#[tokio::test]
async fn one_failing_organization_does_not_stop_another_s_charging_and_idle_stop() {
    let stack = stack().await;
    stack.clock.freeze();
    // Alice's organization in account 111122223333; Carol's in 444455556666.
    let (alice, _bob, broken_org) = connected(&stack).await;
    let broken = id(&create(&stack, &alice, &broken_org, "broken", 0).await);
    let carol = register(&stack, &email("carol")).await;
    let org = personal_org(&stack, &carol).await;
    let role = "arn:aws:iam::444455556666:role/orgs-clusters";
    connect_to(&stack, &carol, &org, role).await;
    let body = json!({ "name": "idle", "instance_type": "m5.large", "workers": 0, "user_management": "managed", "idle_stop_minutes": 10 });
    let created = post(&stack, &format!("/v1/organizations/{org}/clusters"), &carol, body).await;
    let idle = id(&created);
    settles(&stack, &alice, &broken_org, &broken, "running").await;
    let head = crate::cluster_users::instances(&stack, &carol, &org, &idle).await.remove(0);
    let enrolled =
        crate::cluster_users::enroll(&stack, &org, &idle, &head, &crate::cluster_users::nonce()).await;
    assert_eq!(enrolled.status, StatusCode::OK, "{:?}", enrolled.body);
    let token = enrolled.body["credential"].as_str().expect("credential").to_owned();

    // Alice's cluster can no longer be read (its item is damaged) and her account refuses the
    // service; Carol's agent says nobody has been on her cluster.
    let dynamodb = aws_sdk_dynamodb::Client::new(&emulator().await.sdk_config().await);
    dynamodb
        .update_item()
        .table_name(&stack.options.table)
        .set_key(Some(local_stack::table::key::cluster(
            &orgs::domain::OrgId::parse(&broken_org).expect("org"),
            &orgs::domain::ClusterId::parse(&broken).expect("cluster"),
        )))
        .update_expression("SET instance_type = :bad")
        .expression_attribute_values(":bad", aws_sdk_dynamodb::types::AttributeValue::S("not a type".into()))
        .send()
        .await
        .expect("damaged");
    stack.fleet.refuse_only_role(Some("arn:aws:iam::111122223333:role/orgs-clusters"));
    stack.fleet.refuse(Some(("UnauthorizedOperation", "You are not authorized to perform this operation.")));
    stack.clock.advance(Duration::minutes(12));
    let beat = json!({ "active_sessions": 0, "last_activity_at": null });
    let answer = reqwest::Client::new()
        .post(format!("{}/v1/agent/clusters/{idle}/heartbeat", stack.api_url))
        .bearer_auth(&token)
        .json(&beat)
        .send()
        .await
        .expect("heartbeat");
    assert_eq!(answer.status(), StatusCode::NO_CONTENT);

    let report = run(&stack.reconciler).await;
    assert_eq!(report.failed, 1, "Alice's cluster, logged and counted: {report:?}");
    assert_eq!(
        (report.charged, report.stopped_idle),
        (1, 1),
        "Carol's, charged and idle-stopped: {report:?}"
    );
    settles(&stack, &carol, &org, &idle, "stopped").await;
    let charged = cluster_item(&stack, &org, &idle).await;
    assert!(charged.running.is_none(), "stopped, its interval closed");
    let usage = get(&stack, &format!("/v1/organizations/{org}"), &carol).await;
    assert!(usage.body["credits"]["consumed"].as_f64().is_some_and(|c| c > 0.0), "{:?}", usage.body);
    stack.fleet.refuse(None);
    stack.fleet.refuse_only_role(None);
}

#[tokio::test]
async fn a_run_that_cannot_visit_every_cluster_carries_on_where_it_stopped() {
    let stack = stack().await;
    stack.clock.freeze();
    let (alice, _bob, org) = connected(&stack).await;
    let mut clusters = Vec::new();
    for i in 0..5 {
        clusters.push(id(&create(&stack, &alice, &org, &format!("c{i}"), 0).await));
    }
    for cluster in &clusters {
        settles(&stack, &alice, &org, cluster, "running").await;
    }
    // Two clusters per run: the budget, as a deployment with many more clusters than one run
    // can visit would have it.
    let small = reconcile_clusters::Reconciler {
        store: stack.reconciler.store.clone(),
        fleet: stack.fleet.clone(),
        clock: stack.clock.clone(),
        budget: reconcile_clusters::Budget { clusters: 2, ..Default::default() },
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut runs = Vec::new();
    for round in 0..3 {
        stack.clock.advance(Duration::hours(1));
        let now = stack.api.now();
        let report = run(&small).await;
        assert_eq!((report.visited, report.deferred), (2, 3), "round {round}: {report:?}");
        let mut charged_now = Vec::new();
        for cluster in &clusters {
            let item = cluster_item(&stack, &org, cluster).await;
            if item.running.as_ref().is_some_and(|r| r.charged_until == now) {
                charged_now.push(cluster.clone());
            }
        }
        assert_eq!(charged_now.len(), 2, "round {round}");
        seen.extend(charged_now.iter().cloned());
        runs.push(charged_now);
    }
    assert!(runs[0].iter().all(|c| !runs[1].contains(c)), "the second run went on from the first: {runs:?}");
    assert_eq!(seen.len(), 5, "within three runs every cluster came round: {runs:?}");
}

#[tokio::test]
async fn a_cluster_whose_stop_failed_is_still_charged_and_stopped_for_credits_once_the_cloud_allows() {
    let options = local_stack::StackOptions {
        pricing: orgs::config::Pricing { trial: Credits::from_millis(1_500), ..Default::default() },
        ..local_stack::StackOptions::for_test()
    };
    let stack = stack_with(options).await;
    stack.clock.freeze();
    let (alice, _bob, org) = connected(&stack).await;
    let cluster = id(&create(&stack, &alice, &org, "stuck", 0).await);
    settles(&stack, &alice, &org, &cluster, "running").await;

    // Alice stops it, but the account refuses StopInstances: `error`, its instance still running.
    stack.fleet.refuse_only_stops(true);
    stack.fleet.refuse(Some(("UnauthorizedOperation", "You are not authorized to perform this operation.")));
    assert_eq!(act(&stack, &alice, &org, &cluster, "stop").await.status, StatusCode::ACCEPTED);
    let errored = settles(&stack, &alice, &org, &cluster, "error").await;
    assert!(errored["last_error"].as_str().is_some_and(|e| e.contains("UnauthorizedOperation")), "{errored}");
    assert!(cluster_item(&stack, &org, &cluster).await.running.is_some(), "its interval stays open");

    // Two hours: charged while in `error`, and past its credits the job asks for the stop again;
    // the cloud still refuses, and so it stays in `error`, still charged.
    stack.clock.advance(Duration::hours(2));
    let report = run(&stack.reconciler).await;
    assert_eq!((report.charged, report.stopped_for_credits), (1, 1), "{report:?}");
    assert_eq!(report.credits_charged, Credits::from_millis(2_000));
    settles(&stack, &alice, &org, &cluster, "error").await;

    // The account allows it again: the next run's stop goes through.
    stack.fleet.refuse(None);
    stack.fleet.refuse_only_stops(false);
    stack.clock.advance(Duration::minutes(5));
    let report = run(&stack.reconciler).await;
    assert_eq!(report.stopped_for_credits, 1, "{report:?}");
    settles(&stack, &alice, &org, &cluster, "stopped").await;
    let instances = orgs::cloud::Fleet::find(
        &customer_fleet().await,
        &target(&stack, &org).await,
        &orgs::domain::ClusterId::parse(&cluster).expect("id"),
    )
    .await
    .expect("found");
    assert!(instances.iter().all(|i| i.state == "stopped"), "{instances:?}");
}

#[tokio::test]
async fn drift_inside_a_cluster_is_noticed_stopped_again_or_flagged() {
    let stack = stack().await;
    let (alice, _bob, org) = connected(&stack).await;
    let three = id(&create(&stack, &alice, &org, "three", 2).await);
    let parked = id(&create(&stack, &alice, &org, "parked", 0).await);
    let running = settles(&stack, &alice, &org, &three, "running").await;
    settles(&stack, &alice, &org, &parked, "running").await;
    assert_eq!(act(&stack, &alice, &org, &parked, "stop").await.status, StatusCode::ACCEPTED);
    let stopped = settles(&stack, &alice, &org, &parked, "stopped").await;
    let ids = instance_ids;
    let target = target(&stack, &org).await;
    let customer = customer_fleet().await;

    // Behind the service's back: one of three instances stopped; the parked cluster started; an
    // instance launched with the running cluster's tag.
    let one = ids(&running)[1..2].to_vec();
    customer.stop(&target, &one).await.expect("stopped one");
    customer.start(&target, &ids(&stopped)).await.expect("started");
    let launch = orgs::cloud::Launch {
        cluster_id: orgs::domain::ClusterId::parse(&three).expect("id"),
        org_id: OrgId::parse(&org).expect("org"),
        name: "impostor".into(),
        instance_type: "m5.large".into(),
        count: 1,
    };
    let foreign = customer.launch(&target, &launch).await.expect("launched");

    let report = run(&stack.reconciler).await;
    assert_eq!(
        (report.partly_stopped, report.started_externally, report.unknown_instances),
        (1, 1, 1),
        "{report:?}"
    );
    let three_now = get(&stack, &format!("/v1/organizations/{org}/clusters/{three}"), &alice).await.body;
    assert_eq!(three_now["state"], "running", "the rest keeps running");
    let problem = three_now["last_error"].as_str().unwrap_or_default();
    assert!(problem.contains(&format!("InstancesStopped: {}", one[0])), "{problem}");
    assert!(problem.contains(&format!("UnknownInstances: {}", foreign[0])), "{problem}");
    let parked_now = get(&stack, &format!("/v1/organizations/{org}/clusters/{parked}"), &alice).await.body;
    assert_eq!(parked_now["state"], "stopped");
    assert!(
        parked_now["last_error"].as_str().is_some_and(|p| p.contains("StartedExternally")),
        "{parked_now}"
    );
    let parked_instances =
        customer.find(&target, &orgs::domain::ClusterId::parse(&parked).expect("id")).await.expect("found");
    assert!(parked_instances.iter().all(|i| i.state == "stopped"), "stopped again: {parked_instances:?}");
    let impostor =
        customer.find(&target, &orgs::domain::ClusterId::parse(&three).expect("id")).await.expect("found");
    assert!(
        impostor.iter().any(|i| i.id == foreign[0] && i.state == "running"),
        "the service leaves what it did not launch alone: {impostor:?}"
    );
}
