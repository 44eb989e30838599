//! DynamoDB round trips per operation, counted by an SDK interceptor on the functions' client.
//! A mutation costs at most two read round trips and one write round trip.

use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn each_operation_makes_the_round_trips_it_should() {
    let stack = stack().await;
    let alice = register(&stack, &email("alice")).await;
    let org = personal_org(&stack, &alice).await;
    let bob = register(&stack, &email("bob")).await;
    let carol = register(&stack, &email("carol")).await;
    stack.calls.take();

    let mut measured = Vec::new();
    let mut measure = |name: &'static str, expected: &[&str]| {
        let calls = stack.calls.take();
        assert_eq!(calls, expected, "{name}");
        measured.push((name, calls.len()));
    };

    let id = invite(&stack, &alice, &org, &bob.email).await;
    measure("invite", &["GetItem", "TransactWriteItems"]);
    let carol_id = invite(&stack, &alice, &org, &carol.email).await;
    stack.calls.take();

    post(&stack, &format!("/v1/invitations/{id}/accept"), &bob, json!({})).await;
    measure("accept", &["BatchGetItem", "TransactWriteItems"]);
    post(&stack, &format!("/v1/invitations/{carol_id}/decline"), &carol, json!({})).await;
    measure("decline", &["BatchGetItem", "TransactWriteItems"]);
    call(&stack, "DELETE", &format!("/v1/organizations/{org}/members/{}", bob.sub), Some(&alice.token), None)
        .await;
    measure("remove member", &["BatchGetItem", "Query", "TransactWriteItems"]);
    get(&stack, &format!("/v1/organizations/{org}"), &alice).await;
    measure("get organization", &["BatchGetItem"]);
    get(&stack, &format!("/v1/organizations/{org}/members"), &alice).await;
    measure("members page", &["Query"]);
    get(&stack, "/v1/me", &alice).await;
    measure("dashboard", &["GetItem", "Query", "Query"]);
    post(&stack, &format!("/v1/organizations/{org}/invitations"), &alice, json!({"email": "bad"})).await;
    measure("rejected invitation", &[]);
    eprintln!("round trips per operation: {measured:?}");
}
