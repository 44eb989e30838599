//! Changing a member's role: who may, what cannot change, what a demotion takes with it, and two
//! admins demoting each other at once.

use futures::future::join;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

/// Alice's organization with Bob and Carol in it as members. Returns (alice, bob, carol, org).
async fn alice_bob_and_carol(stack: &local_stack::Stack) -> (User, User, User, String) {
    let alice = register(stack, &email("alice")).await;
    let org = personal_org(stack, &alice).await;
    let mut joined = Vec::new();
    for name in ["bob", "carol"] {
        let user = register(stack, &email(name)).await;
        let id = invite(stack, &alice, &org, &user.email).await;
        let answer = post(stack, &format!("/v1/invitations/{id}/accept"), &user, json!({})).await;
        assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
        joined.push(user);
    }
    let carol = joined.pop().expect("carol");
    let bob = joined.pop().expect("bob");
    (alice, bob, carol, org)
}

async fn set_role(stack: &local_stack::Stack, actor: &User, org: &str, who: &User, role: &str) -> Answer {
    let path = format!("/v1/organizations/{org}/members/{}", who.sub);
    call(stack, "PATCH", &path, Some(&actor.token), Some(json!({ "role": role }))).await
}

async fn role_of(stack: &local_stack::Stack, viewer: &User, org: &str, who: &User) -> String {
    let page = get(stack, &format!("/v1/organizations/{org}/members"), viewer).await;
    let members = page.body["members"].as_array().cloned().unwrap_or_default();
    let member = members.iter().find(|m| m["user_id"] == who.sub.as_str());
    member.and_then(|m| m["role"].as_str()).unwrap_or("not a member").to_owned()
}

#[tokio::test]
async fn the_owner_promotes_and_demotes_and_the_change_holds_at_once() {
    let stack = stack().await;
    let (alice, bob, carol, org) = alice_bob_and_carol(&stack).await;

    // Bob, a plain member, may not invite; promoted, he may at once.
    let path = format!("/v1/organizations/{org}/invitations");
    assert_problem(
        &post(&stack, &path, &bob, json!({ "email": email("dan") })).await,
        403,
        "a member invites",
    );
    let promoted = set_role(&stack, &alice, &org, &bob, "admin").await;
    assert_eq!(promoted.status, StatusCode::OK, "{:?}", promoted.body);
    assert_eq!(promoted.body["role"], "admin");
    assert_eq!(post(&stack, &path, &bob, json!({ "email": email("dan") })).await.status, StatusCode::CREATED);

    // An admin changes others' roles too; nobody changes the owner's, nor makes an owner.
    assert_eq!(set_role(&stack, &bob, &org, &carol, "admin").await.status, StatusCode::OK);
    assert_problem(&set_role(&stack, &bob, &org, &alice, "member").await, 409, "demoting the owner");
    assert_problem(&set_role(&stack, &alice, &org, &carol, "owner").await, 400, "making an owner");
    assert_problem(&set_role(&stack, &alice, &org, &carol, "king").await, 400, "an unknown role");

    // Demoted, Bob loses the right on his very next request.
    assert_eq!(set_role(&stack, &alice, &org, &bob, "member").await.status, StatusCode::OK);
    assert_eq!(role_of(&stack, &alice, &org, &bob).await, "member");
    assert_problem(
        &post(&stack, &path, &bob, json!({ "email": email("erin") })).await,
        403,
        "demoted, inviting",
    );
    assert_problem(&set_role(&stack, &bob, &org, &carol, "member").await, 403, "a member changes a role");
}

#[tokio::test]
async fn strangers_and_missing_members_learn_nothing() {
    let stack = stack().await;
    let (alice, bob, _carol, org) = alice_bob_and_carol(&stack).await;
    let stranger = register(&stack, &email("mallory")).await;

    assert_problem(&set_role(&stack, &stranger, &org, &bob, "admin").await, 404, "a non-member");
    assert_problem(&set_role(&stack, &alice, &org, &stranger, "admin").await, 404, "not a member");
    assert_eq!(role_of(&stack, &alice, &org, &bob).await, "member");
}

#[tokio::test]
async fn a_demoted_admin_takes_their_open_invitations_with_them() {
    let stack = stack().await;
    let (alice, bob, _carol, org) = alice_bob_and_carol(&stack).await;
    assert_eq!(set_role(&stack, &alice, &org, &bob, "admin").await.status, StatusCode::OK);
    let erin = register(&stack, &email("erin")).await;
    let id = invite(&stack, &bob, &org, &erin.email).await;

    assert_eq!(set_role(&stack, &alice, &org, &bob, "member").await.status, StatusCode::OK);

    assert_eq!(get(&stack, "/v1/me", &erin).await.body["invitations"], json!([]));
    let accepted = post(&stack, &format!("/v1/invitations/{id}/accept"), &erin, json!({})).await;
    assert_problem(&accepted, 404, "accepting a demoted admin's invitation");
}

#[tokio::test]
async fn two_admins_demoting_each_other_leave_exactly_one_admin() {
    for round in 0..6 {
        let stack = stack().await;
        let (alice, bob, carol, org) = alice_bob_and_carol(&stack).await;
        for admin in [&bob, &carol] {
            assert_eq!(set_role(&stack, &alice, &org, admin, "admin").await.status, StatusCode::OK);
        }

        let (bob_demotes, carol_demotes) = join(
            set_role(&stack, &bob, &org, &carol, "member"),
            set_role(&stack, &carol, &org, &bob, "member"),
        )
        .await;

        let won = [&bob_demotes, &carol_demotes].iter().filter(|a| a.status == StatusCode::OK).count();
        assert_eq!(won, 1, "round {round}: {:?} / {:?}", bob_demotes.body, carol_demotes.body);
        let loser = if bob_demotes.status == StatusCode::OK { &carol_demotes } else { &bob_demotes };
        assert_problem(loser, 403, &format!("round {round}: the demoted admin's own demotion"));
        let roles = (role_of(&stack, &alice, &org, &bob).await, role_of(&stack, &alice, &org, &carol).await);
        assert!(
            roles == ("admin".into(), "member".into()) || roles == ("member".into(), "admin".into()),
            "round {round}: {roles:?}"
        );
    }
}
