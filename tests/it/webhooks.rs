//! Webhooks end to end: an endpoint registered through the API hears about membership changes
//! from the table's stream, signed, in order, at least once; a failure is retried after its
//! backoff; addresses that are not public are refused at registration and at every delivery.

use std::sync::Arc;

use hmac::{KeyInit, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

const MEMBER_EVENTS: [&str; 4] = ["member.invited", "member.joined", "member.role_changed", "member.removed"];

/// The deliveries of an endpoint as its log shows them, once `n` of them are there.
async fn deliveries(
    stack: &local_stack::Stack,
    owner: &User,
    org: &str,
    webhook: &str,
    n: usize,
) -> Vec<Value> {
    let path = format!("/v1/organizations/{org}/webhooks/{webhook}/deliveries");
    eventually(&format!("{n} deliveries queued"), || async {
        let listed = get(stack, &path, owner).await;
        assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.body);
        let all = listed.body["deliveries"].as_array().cloned().unwrap_or_default();
        (all.len() >= n).then_some(all)
    })
    .await
}

/// One run of the deliverer, as its function (its calls are checked against its policy).
async fn run(deliverer: &deliver_webhooks::Deliverer) -> deliver_webhooks::Report {
    local_stack::identity::as_function("deliver-webhooks", deliver_webhooks::deliver(deliverer))
        .await
        .expect("a run")
}

/// Whether `signature` is `v1=` and the hex HMAC-SHA256 of `"{timestamp}.{body}"` under `secret`,
/// computed here as a receiver would.
fn signed_by(secret: &str, timestamp: &str, body: &str, signature: &str) -> bool {
    let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(format!("{timestamp}.{body}").as_bytes());
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    signature == format!("v1={hex}")
}

/// Alice's organization with Bob invited, joined, made an admin and removed, and an endpoint
/// that heard all four, waiting to be delivered: (alice, bob, org, webhook answer).
async fn four_member_events(stack: &local_stack::Stack, receiver: &Receiver) -> (User, User, String, Value) {
    let alice = register(stack, &email("alice")).await;
    let org = personal_org(stack, &alice).await;
    let hook = webhook(stack, &alice, &org, &format!("{}hook", receiver.url), json!(MEMBER_EVENTS)).await;
    let bob = register(stack, &email("bob")).await;
    let invitation = invite(stack, &alice, &org, &bob.email).await;
    let accepted = post(stack, &format!("/v1/invitations/{invitation}/accept"), &bob, json!({})).await;
    assert_eq!(accepted.status, StatusCode::OK, "{:?}", accepted.body);
    let member = format!("/v1/organizations/{org}/members/{}", bob.sub);
    let promoted = call(stack, "PATCH", &member, Some(&alice.token), Some(json!({ "role": "admin" }))).await;
    assert_eq!(promoted.status, StatusCode::OK, "{:?}", promoted.body);
    let removed = call(stack, "DELETE", &member, Some(&alice.token), None).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{:?}", removed.body);
    let webhook = hook["webhook_id"].as_str().expect("id").to_owned();
    deliveries(stack, &alice, &org, &webhook, 4).await;
    (alice, bob, org, hook)
}

#[tokio::test]
pub(crate) async fn a_receiver_gets_every_event_signed_in_order_and_a_500_is_tried_again_after_its_backoff() {
    let stack = stack().await;
    let receiver = Receiver::start(vec![(500, "down for a moment"), (200, "ok")]).await;
    let (alice, bob, org, hook) = four_member_events(&stack, &receiver).await;
    let (webhook, secret) =
        (hook["webhook_id"].as_str().expect("id"), hook["secret"].as_str().expect("secret"));
    assert!(secret.starts_with("whsec_"), "{hook}");

    // The first attempt gets the 500: it waits a minute, and the endpoint's later events wait
    // behind it, so that they keep their order.
    let first = run(&stack.deliverer).await;
    assert_eq!((first.retrying, first.delivered, first.deferred), (1, 0, 3), "{first:?}");
    let again = run(&stack.deliverer).await;
    assert_eq!(
        (again.delivered, again.retrying, again.deferred),
        (0, 0, 3),
        "the later ones wait behind it: {again:?}"
    );

    stack.clock.advance(time::Duration::seconds(61));
    let second = run(&stack.deliverer).await;
    assert_eq!((second.delivered, second.retrying), (4, 0), "{second:?}");

    let received = receiver.received();
    assert_eq!(received.len(), 5, "one retry and four deliveries");
    let ids: Vec<&str> = received.iter().map(|r| r.headers["orgs-event-id"].as_str()).collect();
    assert_eq!(ids[0], ids[1], "a retry carries the same event id");
    assert_eq!(received[0].body, received[1].body, "and the same bytes");
    let bodies: Vec<Value> = received.iter().map(|r| serde_json::from_str(&r.body).expect("JSON")).collect();
    let types: Vec<&str> = bodies[1..].iter().map(|b| b["type"].as_str().unwrap_or_default()).collect();
    assert_eq!(types, MEMBER_EVENTS, "in the order they happened");
    let mut unique = ids[1..].to_vec();
    unique.dedup();
    assert_eq!(unique.len(), 4, "each event has its own id");
    let now = stack.api.now().unix();
    for (request, body) in received.iter().zip(&bodies) {
        assert_eq!(request.line, "POST /hook HTTP/1.1");
        assert_eq!(request.headers["content-type"], "application/json");
        let timestamp = &request.headers["orgs-timestamp"];
        assert!(
            (now - timestamp.parse::<i64>().expect("seconds")).abs() <= 300,
            "a receiver refusing replays older than 5 minutes takes it"
        );
        assert!(
            signed_by(secret, timestamp, &request.body, &request.headers["orgs-signature"]),
            "{request:?}"
        );
        assert!(
            !signed_by(secret, "0", &request.body, &request.headers["orgs-signature"]),
            "the time is signed"
        );
        assert_eq!(body["id"], request.headers["orgs-event-id"].as_str());
        assert_eq!(body["organization_id"], org.as_str());
        assert_eq!(body["data"]["email"], bob.email.as_str(), "{body}");
        assert!(!request.body.contains("whsec_"), "never the secret");
    }
    assert_eq!(bodies[1]["data"]["role"], "member");
    assert_eq!(bodies[3]["data"]["user_id"], bob.sub.as_str());
    assert_eq!(
        (bodies[3]["data"]["role"].as_str(), bodies[3]["data"]["previous_role"].as_str()),
        (Some("admin"), Some("member"))
    );

    // The log says what happened to each.
    let log = deliveries(&stack, &alice, &org, webhook, 4).await;
    assert!(log.iter().all(|d| d["status"] == "delivered" && d["last_status_code"] == 200), "{log:?}");
    let oldest = &log[3];
    assert_eq!(
        (oldest["event_type"].as_str(), oldest["attempts"].as_u64()),
        (Some("member.invited"), Some(2))
    );
    assert_eq!(oldest["last_response"], "ok");
}

#[tokio::test]
pub(crate) async fn a_redelivery_sends_the_same_event_signed_with_the_current_secret_and_a_deleted_endpoint_gets_nothing()
 {
    let stack = stack().await;
    let receiver = Receiver::start(vec![(204, "")]).await;
    let (alice, _bob, org, hook) = four_member_events(&stack, &receiver).await;
    let webhook = hook["webhook_id"].as_str().expect("id");
    assert_eq!(run(&stack.deliverer).await.delivered, 4);
    let first = receiver.received()[0].clone();

    let rotated =
        post(&stack, &format!("/v1/organizations/{org}/webhooks/{webhook}/secret"), &alice, json!({})).await;
    assert_eq!(rotated.status, StatusCode::OK, "{:?}", rotated.body);
    let secret = rotated.body["secret"].as_str().expect("a new secret");
    assert_ne!(secret, hook["secret"].as_str().expect("old"));
    let listed = get(&stack, &format!("/v1/organizations/{org}/webhooks"), &alice).await;
    assert!(!listed.body.to_string().contains("whsec_"), "secrets are shown once: {}", listed.body);

    let oldest =
        deliveries(&stack, &alice, &org, webhook, 4).await[3]["delivery_id"].as_str().expect("id").to_owned();
    let path = format!("/v1/organizations/{org}/webhooks/{webhook}/deliveries/{oldest}/redeliver");
    let asked = post(&stack, &path, &alice, json!({})).await;
    assert_eq!(asked.status, StatusCode::ACCEPTED, "{:?}", asked.body);
    assert_eq!(asked.body["status"], "pending");
    assert_eq!(run(&stack.deliverer).await.delivered, 1);
    let again = receiver.received()[4].clone();
    assert_eq!(
        (again.body.as_str(), again.headers["orgs-event-id"].as_str()),
        (first.body.as_str(), first.headers["orgs-event-id"].as_str())
    );
    assert!(signed_by(
        secret,
        &again.headers["orgs-timestamp"],
        &again.body,
        &again.headers["orgs-signature"]
    ));
    let unknown =
        format!("/v1/organizations/{org}/webhooks/{webhook}/deliveries/{}/redeliver", "9".repeat(40));
    assert_eq!(post(&stack, &unknown, &alice, json!({})).await.status, StatusCode::NOT_FOUND);

    // Deleted, the endpoint hears nothing more, and what was queued for it is dropped.
    let gone = call(
        &stack,
        "DELETE",
        &format!("/v1/organizations/{org}/webhooks/{webhook}"),
        Some(&alice.token),
        None,
    )
    .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    invite(&stack, &alice, &org, &email("carol")).await;
    let event = orgs::domain::webhooks::WebhookEvent {
        org: orgs::domain::OrgId::parse(&org).expect("org"),
        event_type: orgs::domain::webhooks::EventType::MemberInvited,
        event_id: uuid::Uuid::new_v4().to_string(),
        delivery_id: "9".repeat(40),
        occurred_at: stack.api.now(),
        data: serde_json::Map::new(),
    };
    assert_eq!(
        stack.api.store.queue_webhook_event(&event).await.expect("queued"),
        0,
        "no endpoint to queue for"
    );
    run(&stack.deliverer).await;
    assert_eq!(receiver.received().len(), 5, "nothing after the deletion");
}

/// A resolver that answers what it is told: `name -> address`.
struct Fixed(Vec<(&'static str, std::net::IpAddr)>);

impl deliver_webhooks::Resolve for Fixed {
    fn resolve<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = std::io::Result<Vec<std::net::SocketAddr>>> + Send + 'a>,
    > {
        let found: Vec<_> = self
            .0
            .iter()
            .filter(|(name, _)| *name == host)
            .map(|(_, ip)| std::net::SocketAddr::new(*ip, port))
            .collect();
        Box::pin(async move { Ok(found) })
    }
}

#[tokio::test]
pub(crate) async fn no_delivery_reaches_a_loopback_private_or_metadata_address() {
    // As deployed and on `cargo xtask dev`: public addresses only.
    let stack = stack_with(local_stack::StackOptions {
        webhook_targets: orgs::domain::webhooks::Targets::PublicOnly,
        ..local_stack::StackOptions::for_test()
    })
    .await;
    let alice = register(&stack, &email("alice")).await;
    let org = personal_org(&stack, &alice).await;
    let hooks = format!("/v1/organizations/{org}/webhooks");

    // At registration: address literals that are not public, and anything but https.
    for url in [
        "https://127.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.8/hook",
        "https://[::1]/hook",
        "https://[fd00:ec2::254]/hook",
        "http://hooks.example.com/hook",
        "https://user:secret@hooks.example.com/hook",
    ] {
        let refused = post(&stack, &hooks, &alice, json!({ "url": url, "events": ["member.joined"] })).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{url}: {:?}", refused.body);
        assert_eq!(refused.content_type, "application/problem+json");
    }

    // At every delivery: names are resolved then, and one that resolves to a private, loopback
    // or metadata address is refused without a connection. The deliverer here is the deployed
    // one's (public addresses only), with names answered as a tenant's DNS might.
    let receiver = Receiver::start(vec![(200, "ok")]).await;
    let port = receiver.url.trim_end_matches('/').rsplit(':').next().expect("port").to_owned();
    let names = [
        ("internal.example.test", "10.1.2.3"),
        ("metadata.example.test", "169.254.169.254"),
        ("local.example.test", "127.0.0.1"),
    ];
    let mut made = Vec::new();
    for (name, _) in names {
        let url = format!("https://{name}:{port}/hook");
        made.push(webhook(&stack, &alice, &org, &url, json!(["member.invited"])).await);
    }
    let deployed = deliver_webhooks::Deliverer {
        store: orgs::store::Store::new(
            aws_sdk_dynamodb::Client::new(&emulator().await.sdk_config().await),
            &stack.options.table,
        ),
        clock: stack.api.clock.clone(),
        resolver: Arc::new(Fixed(names.iter().map(|(n, ip)| (*n, ip.parse().expect("ip"))).collect())),
        targets: orgs::domain::webhooks::Targets::default(),
    };
    invite(&stack, &alice, &org, &email("carol")).await;
    for hook in &made {
        deliveries(&stack, &alice, &org, hook["webhook_id"].as_str().expect("id"), 1).await;
    }
    let run = run(&deployed).await;
    assert_eq!((run.delivered, run.retrying), (0, 3), "{run:?}");
    for (hook, (name, ip)) in made.iter().zip(names) {
        let log = deliveries(&stack, &alice, &org, hook["webhook_id"].as_str().expect("id"), 1).await;
        let error = log[0]["last_error"].as_str().unwrap_or_default();
        assert!(error.starts_with("refused") && error.contains(name) && error.contains(ip), "{log:?}");
        assert!(log[0].get("last_status_code").is_none(), "{log:?}");
    }
    assert!(receiver.received().is_empty(), "no connection was made");
}

#[tokio::test]
async fn of_fourteen_parallel_registrations_exactly_ten_succeed_and_parallel_runs_deliver_each_event_once() {
    let stack = stack().await;
    let alice = register(&stack, &email("alice")).await;
    let org = personal_org(&stack, &alice).await;
    let receiver = Receiver::start(vec![(200, "ok")]).await;
    let hooks = format!("/v1/organizations/{org}/webhooks");
    let url = format!("{}hook", receiver.url);
    let attempts =
        (0..14).map(|_| post(&stack, &hooks, &alice, json!({ "url": url, "events": ["member.invited"] })));
    let answers = futures::future::join_all(attempts).await;
    let created = answers.iter().filter(|a| a.status == StatusCode::CREATED).count();
    let capped = answers.iter().filter(|a| a.status == StatusCode::CONFLICT).count();
    assert_eq!((created, capped), (10, 4), "{:?}", answers.iter().map(|a| a.status).collect::<Vec<_>>());

    invite(&stack, &alice, &org, &email("carol")).await;
    let listed = get(&stack, &hooks, &alice).await;
    for hook in listed.body["webhooks"].as_array().expect("webhooks") {
        deliveries(&stack, &alice, &org, hook["webhook_id"].as_str().expect("id"), 1).await;
    }
    let runs = futures::future::join_all((0..3).map(|_| run(&stack.deliverer))).await;
    let delivered: usize = runs.iter().map(|r| r.delivered).sum();
    assert_eq!(delivered, 10, "{runs:?}");
    assert_eq!(receiver.received().len(), 10, "each endpoint got the invitation once");
}
