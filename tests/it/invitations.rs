//! Invitation rules beyond the main story: duplicates, expiry, declining, addressing.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

#[tokio::test]
pub(crate) async fn a_member_or_a_pending_email_cannot_be_invited_again() {
    let stack = stack().await;
    let alice = register(&stack, &email("alice")).await;
    let org = personal_org(&stack, &alice).await;
    let path = format!("/v1/organizations/{org}/invitations");

    let myself = post(&stack, &path, &alice, json!({"email": alice.email})).await;
    assert_problem(&myself, 409, "inviting a member");
    assert!(
        myself.body["detail"].as_str().is_some_and(|d| d.contains("already a member")),
        "{:?}",
        myself.body
    );

    let bob = email("bob");
    invite(&stack, &alice, &org, &bob).await;
    let twice = post(&stack, &path, &alice, json!({"email": bob, "role": "admin"})).await;
    assert_problem(&twice, 409, "inviting a pending email");
    assert!(
        twice.body["detail"].as_str().is_some_and(|d| d.contains("pending invitation")),
        "{:?}",
        twice.body
    );
}

#[tokio::test]
async fn an_expired_invitation_is_gone_and_the_email_can_be_invited_again() {
    let stack = stack().await;
    let alice = register(&stack, &email("alice")).await;
    let org = personal_org(&stack, &alice).await;
    let bob = register(&stack, &email("bob")).await;
    let old = invite(&stack, &alice, &org, &bob.email).await;

    stack.clock.advance(time::Duration::days(7));

    assert_problem(
        &post(&stack, &format!("/v1/invitations/{old}/accept"), &bob, json!({})).await,
        410,
        "accepting late",
    );
    assert_problem(
        &post(&stack, &format!("/v1/invitations/{old}/decline"), &bob, json!({})).await,
        410,
        "declining late",
    );
    let me = get(&stack, "/v1/me", &bob).await;
    assert_eq!(me.body["invitations"], json!([]), "expired invitations leave the dashboard");
    let pending = get(&stack, &format!("/v1/organizations/{org}/invitations?status=pending"), &alice).await;
    assert_eq!(pending.body["invitations"], json!([]), "and the Members page");

    let new = invite(&stack, &alice, &org, &bob.email).await;
    let accepted = post(&stack, &format!("/v1/invitations/{new}/accept"), &bob, json!({})).await;
    assert_eq!(accepted.status, StatusCode::OK, "{:?}", accepted.body);
}

#[tokio::test]
pub(crate) async fn bob_declines_and_can_be_invited_again() {
    let stack = stack().await;
    let alice = register(&stack, &email("alice")).await;
    let org = personal_org(&stack, &alice).await;
    let bob = register(&stack, &email("bob")).await;
    let first = invite(&stack, &alice, &org, &bob.email).await;

    let declined = post(&stack, &format!("/v1/invitations/{first}/decline"), &bob, json!({})).await;
    assert_eq!(declined.status, StatusCode::NO_CONTENT, "{:?}", declined.body);
    assert_problem(
        &post(&stack, &format!("/v1/invitations/{first}/accept"), &bob, json!({})).await,
        409,
        "accepting a declined invitation",
    );
    assert_eq!(get(&stack, "/v1/me", &bob).await.body["invitations"], json!([]));
    let page = get(&stack, &format!("/v1/organizations/{org}/members"), &alice).await;
    let pending = get(&stack, &format!("/v1/organizations/{org}/invitations?status=pending"), &alice).await;
    assert_eq!(pending.body["invitations"], json!([]));
    assert_eq!(page.body["members"].as_array().map(Vec::len), Some(1));

    invite(&stack, &alice, &org, &bob.email).await;
}

#[tokio::test]
async fn an_admin_invited_as_admin_may_invite_and_remove() {
    let stack = stack().await;
    let alice = register(&stack, &email("alice")).await;
    let org = personal_org(&stack, &alice).await;
    let bob = register(&stack, &email("bob")).await;
    let answer = post(
        &stack,
        &format!("/v1/organizations/{org}/invitations"),
        &alice,
        json!({"email": bob.email, "role": "admin"}),
    )
    .await;
    let id = answer.body["invitation_id"].as_str().expect("id").to_owned();
    let joined = post(&stack, &format!("/v1/invitations/{id}/accept"), &bob, json!({})).await;
    assert_eq!(joined.body["role"], "admin");

    let carol = register(&stack, &email("carol")).await;
    let carol_id = invite(&stack, &bob, &org, &carol.email).await;
    assert_eq!(
        post(&stack, &format!("/v1/invitations/{carol_id}/accept"), &carol, json!({})).await.status,
        StatusCode::OK
    );
    let removed = call(
        &stack,
        "DELETE",
        &format!("/v1/organizations/{org}/members/{}", carol.sub),
        Some(&bob.token),
        None,
    )
    .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let org_view = get(&stack, &format!("/v1/organizations/{org}"), &bob).await;
    assert_eq!(org_view.body["role"], "admin");
    assert_eq!(org_view.body["owner_id"], alice.sub.as_str());
}
