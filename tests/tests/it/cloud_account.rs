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
    assert_eq!(statement["Principal"]["AWS"], format!("arn:aws:iam::{}:root", local_stack::MOTO_ACCOUNT));
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
pub(crate) async fn a_malformed_or_refused_role_saves_nothing() {
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

    // What the emulator cannot do, AWS would: refuse the role (wrong external id, no such role).
    stack.cloud.refuse(Some(("AccessDenied", "User is not authorized to perform: sts:AssumeRole")));
    let refused = put_account(&stack, &alice, &org, configuration(ROLE)).await;
    assert_problem(&refused, 422, "a role the service may not assume");
    assert!(
        refused.body["detail"].as_str().is_some_and(|d| d.contains("AccessDenied")),
        "{:?}",
        refused.body
    );
    stack.cloud.refuse(None);

    assert_eq!(get(&stack, &path, &alice).await.body["account"], Value::Null, "nothing was saved");
    let log = get(&stack, &format!("/v1/organizations/{org}/events"), &alice).await;
    assert!(
        log.body["events"]
            .as_array()
            .is_some_and(|e| e.iter().all(|e| e["action"] != "cloud_account_configured"))
    );
}
