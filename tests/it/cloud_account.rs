//! The organization's cloud account: an external id to put in the trust policy, a role proven
//! through STS before anything is saved, and the configuration every member reads.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

fn configuration(role_arn: &str) -> Value {
    json!({ "provider": "aws", "role_arn": role_arn, "region": "eu-west-1" })
}

async fn put_account(stack: &local_stack::Stack, actor: &User, org: &str, body: Value) -> Answer {
    call(stack, "PUT", &format!("/v1/organizations/{org}/cloud-account"), Some(&actor.token), Some(body))
        .await
}

const ROLE: &str = "arn:aws:iam::111122223333:role/orgs-clusters";

#[tokio::test]
pub(crate) async fn alice_connects_her_account_and_every_member_reads_it() {
    let stack = stack().await;
    let alice = register(&stack, &email("alice")).await;
    let org = personal_org(&stack, &alice).await;
    let bob = register(&stack, &email("bob")).await;
    let id = invite(&stack, &alice, &org, &bob.email).await;
    post(&stack, &format!("/v1/invitations/{id}/accept"), &bob, json!({})).await;
    let path = format!("/v1/organizations/{org}/cloud-account");

    // Before anything is connected: the external id and the trust policy to paste, stable.
    let first = get(&stack, &path, &alice).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    assert_eq!(first.body["account"], Value::Null);
    let external_id = first.body["external_id"].as_str().expect("an external id").to_owned();
    let statement = &first.body["trust_policy"]["Statement"][0];
    // The roles that assume customers' roles, never the service's whole account.
    let roles: Vec<String> = local_stack::ASSUMING_FUNCTIONS
        .iter()
        .map(|f| format!("arn:aws:iam::{}:role/{f}", local_stack::MOTO_ACCOUNT))
        .collect();
    assert_eq!(statement["Principal"]["AWS"], json!(roles));
    assert_eq!(statement["Condition"]["StringEquals"]["sts:ExternalId"], external_id.as_str());
    assert_eq!(get(&stack, &path, &bob).await.body["external_id"], external_id.as_str(), "the same for Bob");
    let carol = register(&stack, &email("carol")).await;
    assert_problem(&get(&stack, &path, &carol).await, 404, "a stranger");
    let elsewhere = get(
        &stack,
        &format!("/v1/organizations/{}/cloud-account", personal_org(&stack, &carol).await),
        &carol,
    )
    .await;
    assert_ne!(elsewhere.body["external_id"], external_id.as_str(), "each organization has its own");

    assert_problem(&put_account(&stack, &bob, &org, configuration(ROLE)).await, 403, "a plain member");
    // Alice pastes the policy the page shows into the role, in her account.
    local_stack::emulator::trust(&stack.emulator_endpoint, ROLE, &first.body["trust_policy"])
        .await
        .expect("the role trusts the service");
    let saved = put_account(&stack, &alice, &org, configuration(ROLE)).await;
    assert_eq!(saved.status, StatusCode::OK, "{:?}", saved.body);
    assert_eq!(saved.body["account_id"], "111122223333", "proven by a read as the role");

    let read = get(&stack, &path, &bob).await;
    assert_eq!(read.body["account"]["role_arn"], ROLE);
    assert_eq!(read.body["account"]["region"], "eu-west-1");
    assert_eq!(read.body["external_id"], external_id.as_str(), "unchanged by configuring");
    let log = get(&stack, &format!("/v1/organizations/{org}/events"), &alice).await;
    assert_eq!(log.body["events"][0]["action"], "cloud_account_configured");
    assert_eq!(log.body["events"][0]["details"]["account_id"], "111122223333");
}

#[tokio::test]
pub(crate) async fn a_malformed_refused_or_unguarded_role_saves_nothing() {
    let stack = stack().await;
    let alice = register(&stack, &email("alice")).await;
    let org = personal_org(&stack, &alice).await;
    let path = format!("/v1/organizations/{org}/cloud-account");

    for (body, why) in [
        (configuration("arn:aws:iam::11111111111a:role/x"), "an account that is not 12 digits"),
        (configuration("arn:aws:iam::111122223333:user/x"), "a user, not a role"),
        (configuration("role/x"), "not an ARN"),
        (json!({ "provider": "gcp", "role_arn": ROLE, "region": "eu-west-1" }), "another provider"),
        (json!({ "provider": "aws", "role_arn": ROLE, "region": "Europe" }), "not a region"),
        (
            json!({ "provider": "aws", "role_arn": ROLE, "region": "eu-west-1", "access_key": "AKIA..." }),
            "keys",
        ),
    ] {
        assert_problem(&put_account(&stack, &alice, &org, body).await, 400, why);
    }
    let refused = put_account(
        &stack,
        &alice,
        &org,
        json!({ "provider": "gcp", "role_arn": ROLE, "region": "eu-west-1" }),
    )
    .await;
    assert!(
        refused.body["detail"].as_str().is_some_and(|d| d.contains("only \"aws\"")),
        "{:?}",
        refused.body
    );

    // The service's own account is never a customer's.
    let own = format!("arn:aws:iam::{}:role/anything", local_stack::MOTO_ACCOUNT);
    assert_problem(&put_account(&stack, &alice, &org, configuration(&own)).await, 400, "our own account");

    // Refused as AWS refuses (the emulator wrapper enforces trust policies): a role that does not
    // exist, and one that trusts the service only with another organization's external id.
    let fresh =
        || format!("arn:aws:iam::111122223333:role/t-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let missing = put_account(&stack, &alice, &org, configuration(&fresh())).await;
    let elsewhere_role = fresh();
    let other_org = personal_org(&stack, &register(&stack, &email("dave")).await).await;
    stack.customer_trusts(&elsewhere_role, &other_org).await.expect("trusted by another organization");
    let not_ours = put_account(&stack, &alice, &org, configuration(&elsewhere_role)).await;
    for (refused, why) in [(&missing, "no such role"), (&not_ours, "another organization's external id")] {
        assert_problem(refused, 422, why);
        let detail = refused.body["detail"].as_str().unwrap_or_default();
        assert!(detail.contains("AccessDenied"), "{why}: the cloud's code: {detail}");
        for internal in ["configure-account", local_stack::MOTO_ACCOUNT, ":role/", "not authorized"] {
            assert!(!detail.contains(internal), "{why}: {detail} names {internal}");
        }
    }

    // A role that trusts the service without the external id: any tenant could claim it.
    let open_role = fresh();
    let open = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "AWS": format!("arn:aws:iam::{}:root", local_stack::MOTO_ACCOUNT) },
            "Action": "sts:AssumeRole"
        }]
    });
    local_stack::emulator::trust(&stack.emulator_endpoint, &open_role, &open).await.expect("an open role");
    let unguarded = put_account(&stack, &alice, &org, configuration(&open_role)).await;
    assert_problem(&unguarded, 422, "a role that does not require the external id");
    assert!(
        unguarded.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("does not require the external id; any tenant could claim it")),
        "{:?}",
        unguarded.body
    );

    // Adding this organization's statement does not help while the open one stays.
    stack.customer_trusts(&open_role, &org).await.expect("trusted");
    let still_open = put_account(&stack, &alice, &org, configuration(&open_role)).await;
    assert_problem(&still_open, 422, "the open statement still lets anyone in");
    assert_eq!(get(&stack, &path, &alice).await.body["account"], Value::Null, "nothing was saved");
    let log = get(&stack, &format!("/v1/organizations/{org}/events"), &alice).await;
    assert!(
        log.body["events"]
            .as_array()
            .is_some_and(|e| e.iter().all(|e| e["action"] != "cloud_account_configured"))
    );

    // A role of its own that requires the external id is accepted.
    let guarded_role = fresh();
    stack.customer_trusts(&guarded_role, &org).await.expect("trusted");
    let saved = put_account(&stack, &alice, &org, configuration(&guarded_role)).await;
    assert_eq!(saved.status, StatusCode::OK, "{:?}", saved.body);
}
