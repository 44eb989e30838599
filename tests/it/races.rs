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

/// Linux accounts given at once: each user gets one account however many syncs give it, no two
/// users share a uid or a login (two members whose addresses share a local part get `twin` and
/// `twin<uid>`), and the uids are the organization's first ones, none skipped.
#[tokio::test]
async fn linux_accounts_given_at_once_are_one_per_user_with_distinct_uids_and_logins() {
    use orgs::domain::{Email, FIRST_UID, OrgId, UserId};
    let stack = stack().await;
    let store = &stack.api.store;
    let org = OrgId::new();
    let users: Vec<(UserId, Email)> = (0..6)
        .map(|i| {
            let domain = ["a", "b"][i % 2];
            let local = if i < 2 { "twin".to_owned() } else { format!("racer{i}") };
            (
                UserId::parse(&format!("racer-{i}")).expect("id"),
                Email::parse(&format!("{local}@{domain}.example.com")).expect("email"),
            )
        })
        .collect();
    // Each user twice, all at once.
    let given = join_all(
        users
            .iter()
            .chain(users.iter())
            .map(|(user, email)| async move { store.linux_accounts(&org, &[(user, email)]).await }),
    )
    .await;
    let mut accounts = std::collections::HashMap::new();
    for answer in given {
        for (user, account) in answer.expect("an account") {
            let first = accounts.entry(user.clone()).or_insert_with(|| account.clone());
            assert_eq!(*first, account, "{user} was given two accounts");
        }
    }
    let mut uids: Vec<u32> = accounts.values().map(|a| a.uid).collect();
    uids.sort_unstable();
    assert_eq!(uids, (FIRST_UID..FIRST_UID + 6).collect::<Vec<_>>(), "{accounts:?}");
    let logins: std::collections::HashSet<&str> = accounts.values().map(|a| a.login.as_str()).collect();
    assert_eq!(logins.len(), 6, "{accounts:?}");
    assert!(logins.contains("twin"), "{accounts:?}");
    // Read again, they are the same.
    let named: Vec<(&UserId, &Email)> = users.iter().map(|(u, e)| (u, e)).collect();
    assert_eq!(store.linux_accounts(&org, &named).await.expect("read"), accounts);
}
