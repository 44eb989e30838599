//! DynamoDB round trips per operation, counted by an SDK interceptor on the functions' client.
//! A mutation costs at most two read round trips and one write round trip.

use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn each_operation_makes_the_round_trips_it_should() {
    let stack = stack().await;

    let measured = local_stack::round_trips::measure(&stack).await.expect("measured");

    let expected: Vec<(&str, Vec<&str>)> = vec![
        // The rate limits' logs are read with the organization and the membership.
        ("invite", vec!["BatchGetItem", "TransactWriteItems"]),
        ("accept", vec!["BatchGetItem", "TransactWriteItems"]),
        ("promote", vec!["BatchGetItem", "TransactWriteItems"]),
        // The second Query finds what the demoted admin sent while the demotion was committing.
        ("demote", vec!["BatchGetItem", "Query", "TransactWriteItems", "Query"]),
        ("transfer ownership", vec!["BatchGetItem", "TransactWriteItems"]),
        ("decline", vec!["BatchGetItem", "TransactWriteItems"]),
        // The recipient's log is known once the invitation is: the three logs in one batch.
        ("resend", vec!["BatchGetItem", "GetItem", "BatchGetItem", "TransactWriteItems"]),
        ("revoke", vec!["BatchGetItem", "GetItem", "TransactWriteItems"]),
        ("invitations page", vec!["BatchGetItem", "Query"]),
        ("update permissions", vec!["BatchGetItem", "TransactWriteItems"]),
        ("rename", vec!["BatchGetItem", "TransactWriteItems"]),
        ("create organization", vec!["GetItem", "TransactWriteItems"]),
        ("events page", vec!["BatchGetItem", "Query"]),
        // Plus STS (AssumeRole, GetCallerIdentity as the role), which this count leaves out.
        ("configure account", vec!["BatchGetItem", "TransactWriteItems"]),
        ("create cluster", vec!["BatchGetItem", "GetItem", "TransactWriteItems"]),
        ("cluster action", vec!["BatchGetItem", "GetItem", "TransactWriteItems"]),
        ("clusters page", vec!["BatchGetItem", "Query"]),
        // The service-accounts item is read again by the write's retry loop, apart from the
        // organization and the membership.
        ("create service account", vec!["BatchGetItem", "GetItem", "TransactWriteItems"]),
        ("create API key", vec!["BatchGetItem", "GetItem", "TransactWriteItems"]),
        // A key is read with the organization, in the one BatchGetItem; its request is counted
        // against its rate (an UpdateItem), and its use recorded at most once a minute.
        (
            "clusters page by key, its first use this minute",
            vec!["BatchGetItem", "UpdateItem", "UpdateItem", "Query"],
        ),
        ("clusters page by key", vec!["BatchGetItem", "UpdateItem", "Query"]),
        // The intervals that ended and the clusters running now, concurrently.
        ("usage report", vec!["BatchGetItem", "Query", "Query"]),
        ("remove member", vec!["BatchGetItem", "Query", "TransactWriteItems", "Query"]),
        // The organization, the caller's membership and the credits in one batch.
        ("get organization", vec!["BatchGetItem"]),
        ("members page", vec!["BatchGetItem", "Query"]),
        ("dashboard", vec!["GetItem", "Query", "Query"]),
        ("rejected invitation", vec![]),
    ];
    let measured: Vec<(&str, Vec<&str>)> =
        measured.iter().map(|(op, calls)| (*op, calls.iter().map(String::as_str).collect())).collect();
    assert_eq!(measured, expected);
}

#[tokio::test]
async fn a_dashboard_of_fifty_organizations_is_one_round_of_reads() {
    // Forty-nine invitations to Bob in a day: past what one address receives by default.
    let mut options = local_stack::StackOptions::for_test();
    options.limits.invitations_per_recipient = 100;
    let stack = stack_with(options).await;
    let bob = register(&stack, &email("bob")).await;
    let owners: Vec<User> = futures::future::join_all((0..49).map(|i| {
        let stack = &stack;
        async move { register(stack, &email(&format!("owner{i}"))).await }
    }))
    .await;
    for owner in &owners {
        let org = personal_org(&stack, owner).await;
        let id = invite(&stack, owner, &org, &bob.email).await;
        let joined = post(&stack, &format!("/v1/invitations/{id}/accept"), &bob, json!({})).await;
        assert_eq!(joined.status, reqwest::StatusCode::OK, "{:?}", joined.body);
    }
    stack.calls.take();

    let me = get(&stack, "/v1/me", &bob).await;

    assert_eq!(me.body["organizations"].as_array().map(Vec::len), Some(50));
    assert_eq!(stack.calls.take(), ["GetItem", "Query", "Query"], "the user, then both indexes at once");
}
