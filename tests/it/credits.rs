//! Usage and credits: intervals recorded when the cloud confirms, a report clipped to a window
//! (JSON and CSV agree), charges that add up however the scheduled job and a stop interleave,
//! and an organization without credits stopped and refused (402) until an operator grants more.

use futures::future::join_all;
use lambda_runtime::LambdaEvent;
use orgs::domain::{Credits, OrgId, Timestamp, Transition};
use reqwest::StatusCode;
use serde_json::{Value, json};
use time::Duration;

use crate::clusters::{act, connected, create, settles};
use crate::support::*;

fn hours(n: i64) -> Duration {
    Duration::hours(n)
}

/// The report of `org` for `from`..`to` as JSON, and as the CSV's lines parsed.
async fn report(
    stack: &local_stack::Stack,
    who: &User,
    org: &str,
    from: Timestamp,
    to: Timestamp,
) -> (Value, Vec<Vec<String>>) {
    let path = format!("/v1/organizations/{org}/usage?from={from}&to={to}");
    let json = get(stack, &path, who).await;
    assert_eq!(json.status, StatusCode::OK, "{:?}", json.body);
    assert!(json.content_type.starts_with("application/json"), "{}", json.content_type);
    let response = reqwest::Client::new()
        .get(format!("{}{path}", stack.api_url))
        .bearer_auth(&who.token)
        .header("accept", "text/csv")
        .send()
        .await
        .expect("csv");
    assert_eq!(response.status(), StatusCode::OK);
    let kind = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert!(kind.starts_with("text/csv"), "{kind}");
    let text = response.text().await.expect("body");
    // The chart's days add up to each cluster's line (each day rounded to the thousandth hour).
    for line in json.body["clusters"].as_array().expect("clusters") {
        let days: Vec<&Value> = json.body["daily"]
            .as_array()
            .expect("daily")
            .iter()
            .filter(|d| d["cluster_id"] == line["id"])
            .collect();
        let hours: f64 = days.iter().filter_map(|d| d["hours"].as_f64()).sum();
        let line_hours = line["hours"].as_f64().expect("hours");
        assert!((hours - line_hours).abs() <= 0.001 * days.len() as f64, "{hours} vs {line_hours}: {days:?}");
    }
    let rows = text
        .split("\r\n")
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    (json.body, rows)
}

/// One line of the JSON report as the CSV writes it.
fn as_row(line: &Value) -> Vec<String> {
    let number = |v: &Value| v.as_f64().expect("a number");
    vec![
        line["kind"].as_str().expect("kind").to_owned(),
        line["id"].as_str().expect("id").to_owned(),
        line["name"].as_str().expect("name").to_owned(),
        number(&line["hours"]).to_string(),
        number(&line["instance_hours"]).to_string(),
        format!("{:.3}", number(&line["credits"])),
    ]
}

fn since(cluster: &Value) -> Timestamp {
    Timestamp::try_from(cluster["running"]["since"].as_str().expect("running since").to_owned())
        .expect("a time")
}

#[tokio::test]
pub(crate) async fn usage_is_clipped_to_the_window_attributed_to_who_started_it_and_csv_agrees() {
    let stack = stack().await;
    stack.clock.freeze();
    let (alice, bob, org) = connected(&stack).await;
    // A head node and one worker at the default rate, 1 credit per instance-hour.
    let cluster =
        create(&stack, &alice, &org, "metered", 1).await.body["cluster_id"].as_str().expect("id").to_owned();
    let t0 = since(&settles(&stack, &alice, &org, &cluster, "running").await);

    // Alice's cluster runs two hours; Bob stops it, and an hour later starts it again.
    stack.clock.advance(hours(2));
    assert_eq!(act(&stack, &bob, &org, &cluster, "stop").await.status, StatusCode::ACCEPTED);
    settles(&stack, &alice, &org, &cluster, "stopped").await;
    stack.clock.advance(hours(1));
    assert_eq!(act(&stack, &bob, &org, &cluster, "start").await.status, StatusCode::ACCEPTED);
    let restarted = settles(&stack, &alice, &org, &cluster, "running").await;
    assert_eq!(since(&restarted), t0.plus(hours(3)));
    assert_eq!(restarted["running"]["started_by"], bob.sub.as_str());
    stack.clock.advance(hours(2));

    // 01:00 to 04:00 cuts Alice's interval (00:00-02:00) and Bob's running one (03:00-now).
    let (body, rows) = report(&stack, &alice, &org, t0.plus(hours(1)), t0.plus(hours(4))).await;
    let cluster_line = &body["clusters"][0];
    assert_eq!(
        (cluster_line["id"].as_str(), cluster_line["name"].as_str()),
        (Some(cluster.as_str()), Some("metered"))
    );
    assert_eq!(
        (cluster_line["hours"].as_f64(), cluster_line["instance_hours"].as_f64()),
        (Some(2.0), Some(4.0))
    );
    assert_eq!(cluster_line["credits"].as_f64(), Some(4.0));
    let member =
        |id: &str| body["members"].as_array().expect("members").iter().find(|m| m["id"] == id).cloned();
    for who in [&alice, &bob] {
        let line = member(&who.sub).unwrap_or_else(|| panic!("{} has no line: {body}", who.email));
        assert_eq!(
            (line["hours"].as_f64(), line["credits"].as_f64()),
            (Some(1.0), Some(2.0)),
            "{}",
            who.email
        );
    }
    assert_eq!((body["total"]["hours"].as_f64(), body["total"]["credits"].as_f64()), (Some(2.0), Some(4.0)));

    // The CSV has the same lines, in the same order, after its header.
    assert_eq!(rows[0], ["kind", "id", "name", "hours", "instance_hours", "credits"]);
    let lines: Vec<&Value> = body["clusters"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(body["members"].as_array().into_iter().flatten())
        .chain(std::iter::once(&body["total"]))
        .collect();
    assert_eq!(rows[1..].to_vec(), lines.iter().map(|l| as_row(l)).collect::<Vec<_>>());

    // A window past now counts the running cluster up to now only (04:00-05:00).
    let (later, _) = report(&stack, &bob, &org, t0.plus(hours(4)), t0.plus(hours(9))).await;
    assert_eq!(later["total"]["hours"].as_f64(), Some(1.0), "{later}");

    // Bob leaves; what he started stays his.
    let left = call(
        &stack,
        "DELETE",
        &format!("/v1/organizations/{org}/members/{}", bob.sub),
        Some(&bob.token),
        None,
    )
    .await;
    assert_eq!(left.status, StatusCode::NO_CONTENT, "{:?}", left.body);
    let (after, _) = report(&stack, &alice, &org, t0, t0.plus(hours(5))).await;
    let bobs =
        after["members"].as_array().expect("members").iter().find(|m| m["id"] == bob.sub.as_str()).cloned();
    assert_eq!(bobs.and_then(|l| l["hours"].as_f64()), Some(2.0), "{after}");
    assert_eq!(
        get(&stack, &format!("/v1/organizations/{org}/usage"), &bob).await.status,
        StatusCode::NOT_FOUND
    );

    // Bad windows are 400s.
    for query in [
        "from=yesterday",
        "from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z",
        "from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z",
    ] {
        assert_problem(
            &get(&stack, &format!("/v1/organizations/{org}/usage?{query}"), &alice).await,
            400,
            query,
        );
    }
}

/// Whichever of the scheduled charge and the cloud's stop confirmation writes first, the
/// organization is charged exactly the interval's cost, and the interval is recorded once.
#[tokio::test]
async fn a_charge_racing_the_stop_confirmation_charges_the_interval_exactly_once() {
    // No pump: the test is the stream, and confirms the stop itself.
    let stack =
        stack_with(local_stack::StackOptions { pump: false, ..local_stack::StackOptions::for_test() }).await;
    stack.clock.freeze();
    let (alice, _bob, org) = connected(&stack).await;
    let org_id = OrgId::parse(&org).expect("org");
    let store = &stack.api.store;
    let before = store.balance(&org_id).await.expect("balance");
    let start = stack.api.now();
    let mut expected = Credits::ZERO;
    for round in 0..6 {
        let id = create(&stack, &alice, &org, &format!("raced-{round}"), 2).await.body["cluster_id"]
            .as_str()
            .expect("id")
            .to_owned();
        let id = orgs::domain::ClusterId::parse(&id).expect("uuid");
        let read = || async { store.cluster(&org_id, &id).await.expect("read").expect("the cluster") };
        let running = store
            .transition(&read().await, Transition::Running, None, Default::default(), stack.api.now())
            .await
            .expect("running");
        // A charge at +20 minutes, then the stop confirmed at +50 minutes racing a charge.
        stack.clock.advance(Duration::minutes(20));
        store.charge(&read().await, stack.api.now()).await.expect("charged");
        let stopping = store
            .transition(&read().await, Transition::Stop, None, Default::default(), stack.api.now())
            .await
            .expect("stopping");
        stack.clock.advance(Duration::minutes(30 + round));
        let now = stack.api.now();
        let (charged, stopped) = futures::join!(
            store.charge(&stopping, now),
            store.transition(&stopping, Transition::Stopped, None, Default::default(), now)
        );
        charged.expect("a charge never fails");
        assert_eq!(
            stopped.expect("the confirmation is never lost").state,
            orgs::domain::ClusterState::Stopped
        );
        let minutes = 50 + round;
        expected = expected + orgs::domain::credits::cost(running.rate, 3, minutes * 60);
        let (usage, _) = report(&stack, &alice, &org, start, now.plus(hours(1))).await;
        assert_eq!(usage["clusters"].as_array().map(Vec::len), Some(round as usize + 1), "{usage}");
    }
    let after = store.balance(&org_id).await.expect("balance");
    assert_eq!(after.consumed - before.consumed, expected);
}

#[tokio::test]
pub(crate) async fn without_credits_running_clusters_are_stopped_and_nothing_starts_until_an_operator_grants()
{
    let options = local_stack::StackOptions {
        pricing: orgs::config::Pricing { trial: Credits::from_millis(1_500), ..Default::default() },
        ..local_stack::StackOptions::for_test()
    };
    let stack = stack_with(options).await;
    stack.clock.freeze();
    let (alice, bob, org) = connected(&stack).await;
    let organization = get(&stack, &format!("/v1/organizations/{org}"), &bob).await;
    assert_eq!(organization.body["credits"], json!({ "granted": 1.5, "consumed": 0.0, "balance": 1.5 }));
    let cluster =
        create(&stack, &alice, &org, "hungry", 0).await.body["cluster_id"].as_str().expect("id").to_owned();
    settles(&stack, &alice, &org, &cluster, "running").await;

    // An hour: charged, still in credit.
    stack.clock.advance(hours(1));
    let report = local_stack::identity::as_function(
        "reconcile-clusters",
        reconcile_clusters::reconcile(&stack.reconciler),
    )
    .await
    .expect("ran");
    assert_eq!((report.charged, report.stopped_for_credits), (1, 0), "{report:?}");
    assert_eq!(report.credits_charged, Credits::from_millis(1_000));

    // Another hour: the balance is used up, and the job stops the cluster.
    stack.clock.advance(hours(1));
    let report = local_stack::identity::as_function(
        "reconcile-clusters",
        reconcile_clusters::reconcile(&stack.reconciler),
    )
    .await
    .expect("ran");
    assert_eq!(report.stopped_for_credits, 1, "{report:?}");
    settles(&stack, &alice, &org, &cluster, "stopped").await;
    let organization = get(&stack, &format!("/v1/organizations/{org}"), &alice).await;
    assert_eq!(organization.body["credits"], json!({ "granted": 1.5, "consumed": 2.0, "balance": -0.5 }));
    let events = get(&stack, &format!("/v1/organizations/{org}/events"), &alice).await;
    let stop = events.body["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["action"] == "cluster_stopped_for_credits")
        .cloned()
        .unwrap_or_else(|| panic!("no stop in the audit log: {}", events.body));
    assert_eq!(
        (stop["actor"].clone(), stop["details"]["cluster_id"].clone()),
        (json!({ "service": "credits" }), json!(cluster))
    );

    // Nothing more starts or is created: 402 with the balance.
    for answer in
        [act(&stack, &bob, &org, &cluster, "start").await, create(&stack, &alice, &org, "another", 0).await]
    {
        assert_problem(&answer, 402, "no credits");
        assert_eq!(answer.body["balance"].as_f64(), Some(-0.5), "{:?}", answer.body);
    }
    // Stopping and terminating stay possible: they spend nothing.
    assert_eq!(act(&stack, &alice, &org, &cluster, "terminate").await.status, StatusCode::ACCEPTED);

    // There is no route by which a member grants credits.
    for method in ["POST", "PUT", "PATCH"] {
        let tried = call(
            &stack,
            method,
            &format!("/v1/organizations/{org}/credits"),
            Some(&alice.token),
            Some(json!({ "credits": 100 })),
        )
        .await;
        assert_eq!(tried.status, StatusCode::NOT_FOUND, "{method}");
    }

    // Ten operators grant a credit each at once: every grant counts.
    let grants = (0..10).map(|i| {
        let event = json!({ "org_id": org, "credits": 1, "operator": format!("ops-{i}@example.com"), "reason": "support ticket" });
        let granter = stack.granter.clone();
        async move {
            local_stack::identity::as_function("grant-credits", grant_credits::handle(&granter, LambdaEvent::new(serde_json::from_value(event).expect("grant"), Default::default()))).await
        }
    });
    for granted in join_all(grants).await {
        granted.expect("granted");
    }
    let balance = stack.api.store.balance(&OrgId::parse(&org).expect("org")).await.expect("balance");
    assert_eq!(balance.balance, Credits::from_millis(9_500));
    assert_eq!(create(&stack, &alice, &org, "again", 0).await.status, StatusCode::ACCEPTED);

    // A grant to no organization, or of nothing, is refused and changes nothing.
    for (org_id, credits) in
        [(uuid::Uuid::now_v7().to_string(), 5.0), (org.clone(), 0.0), (org.clone(), -3.0)]
    {
        let event = json!({ "org_id": org_id, "credits": credits, "operator": "ops", "reason": "mistake" });
        let refused = local_stack::identity::as_function(
            "grant-credits",
            grant_credits::handle(
                &stack.granter,
                LambdaEvent::new(serde_json::from_value(event).expect("grant"), Default::default()),
            ),
        )
        .await;
        assert!(refused.is_err(), "{org_id} {credits}");
    }
    let unchanged = stack.api.store.balance(&OrgId::parse(&org).expect("org")).await.expect("balance");
    assert_eq!(unchanged.granted, balance.granted);
}

#[tokio::test]
async fn trial_credits_come_once_per_person_not_per_organization_created_or_handed_over() {
    let stack = stack().await;
    let alice = register(&stack, &email("alice")).await;
    let personal = personal_org(&stack, &alice).await;
    let trial = json!({ "granted": 100.0, "consumed": 0.0, "balance": 100.0 });
    let credits = |org: String| {
        let (stack, alice) = (&stack, &alice);
        async move { get(stack, &format!("/v1/organizations/{org}"), alice).await.body["credits"].clone() }
    };
    assert_eq!(credits(personal.clone()).await, trial, "the first organization has the trial");

    // Every organization she creates afterwards starts empty, however many she makes.
    for name in ["Second", "Third"] {
        let created = post(&stack, "/v1/organizations", &alice, json!({ "name": name })).await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
        let org = created.body["org_id"].as_str().expect("id").to_owned();
        assert_eq!(
            credits(org.clone()).await,
            json!({ "granted": 0.0, "consumed": 0.0, "balance": 0.0 }),
            "{name}"
        );
        let log = get(&stack, &format!("/v1/organizations/{org}/events"), &alice).await;
        let grants = log.body["events"]
            .as_array()
            .map(|e| e.iter().filter(|e| e["action"] == "credits_granted").count());
        assert_eq!(grants, Some(0), "{name}: no trial grant in its log");
    }
    // Registering again (a retried trigger) grants nothing more.
    let again = local_stack::identity::as_function(
        "register-user",
        stack.registrar.store.register(
            &orgs::domain::UserId::parse(&alice.sub).expect("id"),
            &orgs::domain::Email::parse(&alice.email).expect("email"),
            stack.options.pricing.trial,
            stack.api.now(),
        ),
    )
    .await;
    assert!(again.is_ok(), "{again:?}");
    assert_eq!(credits(personal).await, trial, "still one trial");
}

#[tokio::test]
async fn twenty_parallel_creations_at_a_small_balance_hold_no_more_than_it_covers_and_the_debt_stays_bounded()
{
    // 0.25 credits; an m5.large head node alone costs 1 credit an hour, 0.083 per charging period
    // (5 minutes): its hold. Three fit.
    let options = local_stack::StackOptions {
        pricing: orgs::config::Pricing { trial: Credits::from_millis(250), ..Default::default() },
        ..local_stack::StackOptions::for_test()
    };
    let stack = stack_with(options).await;
    stack.clock.freeze();
    let (alice, _bob, org) = connected(&stack).await;

    let answers = join_all((0..20).map(|i| {
        let (stack, alice, org) = (&stack, &alice, &org);
        async move { create(stack, alice, org, &format!("c{i}"), 0).await }
    }))
    .await;
    let accepted: Vec<&Answer> = answers.iter().filter(|a| a.status == StatusCode::ACCEPTED).collect();
    let refused = answers.iter().filter(|a| a.status == StatusCode::PAYMENT_REQUIRED).count();
    assert_eq!(
        (accepted.len(), refused),
        (3, 17),
        "{:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    let hold = accepted[0].body["credits_held"].as_f64().expect("a hold");
    assert_eq!(hold, 0.083);
    for answer in &answers {
        if answer.status == StatusCode::PAYMENT_REQUIRED {
            assert_problem(answer, 402, "past what the balance covers");
            assert!(
                answer.body["detail"].as_str().is_some_and(|d| d.contains("first charging period")),
                "{:?}",
                answer.body
            );
        }
    }
    let ids: Vec<String> =
        accepted.iter().map(|a| a.body["cluster_id"].as_str().expect("id").to_owned()).collect();
    for cluster in &ids {
        settles(&stack, &alice, &org, cluster, "running").await;
    }

    // The scheduled job comes every period: the first charge leaves a sliver, the second finds
    // the balance spent and stops them. The debt is at most one period of what they cost: their
    // holds.
    let run = || async {
        local_stack::identity::as_function(
            "reconcile-clusters",
            reconcile_clusters::reconcile(&stack.reconciler),
        )
        .await
        .expect("ran")
    };
    stack.clock.advance(Duration::minutes(5));
    assert_eq!(run().await.stopped_for_credits, 0);
    stack.clock.advance(Duration::minutes(5));
    assert_eq!(run().await.stopped_for_credits, 3);
    for cluster in &ids {
        settles(&stack, &alice, &org, cluster, "stopped").await;
    }
    let credits = get(&stack, &format!("/v1/organizations/{org}"), &alice).await.body["credits"].clone();
    let debt = -credits["balance"].as_f64().expect("balance");
    assert!(debt > 0.0 && debt <= 3.0 * hold, "debt {debt} within one period of the three: {credits}");
    // Stopped, they hold nothing: what they held is free again (and the balance is what it is).
    let org_id = OrgId::parse(&org).expect("org");
    assert_eq!(stack.api.store.funds(&org_id).await.expect("funds").held, Credits::ZERO);
}
