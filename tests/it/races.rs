//! Rules two requests can race on, raced. The emulator applies one request at a time, as AWS
//! applies each conditional write atomically; only the conditions in our writes decide.

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn twenty_parallel_accepts_make_exactly_one_membership() {
    let stack = stack().await;
    let alice = register(&stack, &email("alice")).await;
    let org = personal_org(&stack, &alice).await;
    let bob = register(&stack, &email("bob")).await;
    let id = invite(&stack, &alice, &org, &bob.email).await;

    let path = format!("/v1/invitations/{id}/accept");
    let answers = join_all((0..20).map(|_| post(&stack, &path, &bob, json!({})))).await;

    let ok = answers.iter().filter(|a| a.status == StatusCode::OK).count();
    let conflicts = answers.iter().filter(|a| a.status == StatusCode::CONFLICT).count();
    assert_eq!((ok, conflicts), (1, 19), "{:?}", answers.iter().map(|a| a.status).collect::<Vec<_>>());
    let page = get(&stack, &format!("/v1/organizations/{org}/members"), &alice).await;
    let bobs = page.body["members"]
        .as_array()
        .expect("members")
        .iter()
        .filter(|m| m["email"] == json!(bob.email))
        .count();
    assert_eq!(bobs, 1);
}

#[tokio::test]
async fn twenty_parallel_invitations_of_one_email_leave_one_pending() {
    let stack = stack().await;
    let alice = register(&stack, &email("alice")).await;
    let org = personal_org(&stack, &alice).await;
    let bob = email("bob");

    let path = format!("/v1/organizations/{org}/invitations");
    let answers = join_all((0..20).map(|_| post(&stack, &path, &alice, json!({"email": bob})))).await;

    let created = answers.iter().filter(|a| a.status == StatusCode::CREATED).count();
    let conflicts = answers.iter().filter(|a| a.status == StatusCode::CONFLICT).count();
    assert_eq!((created, conflicts), (1, 19), "{:?}", answers.iter().map(|a| a.status).collect::<Vec<_>>());
    let page = get(&stack, &format!("/v1/organizations/{org}/members"), &alice).await;
    let pending = get(&stack, &format!("/v1/organizations/{org}/invitations?status=pending"), &alice).await;
    assert_eq!(pending.body["invitations"].as_array().map(Vec::len), Some(1), "{:?}", page.body);
    let winner = answers.iter().find(|a| a.status == StatusCode::CREATED).expect("one 201");
    mailed_once(&stack, winner.body["invitation_id"].as_str().expect("invitation id"), &bob).await;
}

#[tokio::test]
async fn accepting_while_being_declined_leaves_one_answer() {
    let stack = stack().await;
    let alice = register(&stack, &email("alice")).await;
    let org = personal_org(&stack, &alice).await;
    let bob = register(&stack, &email("bob")).await;
    let id = invite(&stack, &alice, &org, &bob.email).await;

    let accept_path = format!("/v1/invitations/{id}/accept");
    let decline_path = format!("/v1/invitations/{id}/decline");
    let answers = join_all((0..10).map(|i| {
        let path = if i % 2 == 0 { accept_path.clone() } else { decline_path.clone() };
        let bob = bob.clone();
        let stack = &stack;
        async move { post(stack, &path, &bob, json!({})).await }
    }))
    .await;
    let wins = answers.iter().filter(|a| a.status.is_success()).count();
    assert_eq!(wins, 1, "{:?}", answers.iter().map(|a| a.status).collect::<Vec<_>>());
    let page = get(&stack, &format!("/v1/organizations/{org}/members"), &alice).await;
    let joined = page.body["members"].as_array().map(Vec::len) == Some(2);
    let accepted = answers.iter().enumerate().any(|(i, a)| i % 2 == 0 && a.status.is_success());
    assert_eq!(joined, accepted, "membership exists exactly when the accept won");
}
