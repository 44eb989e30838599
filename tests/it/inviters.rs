//! An invitation is valid only while its inviter may still invite: removing an inviter withdraws
//! their open invitations, and accepting checks the inviter in the same transaction.

use futures::future::join;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

/// Alice's organization with Dave in it as an admin. Returns (alice, dave, org).
async fn alice_with_admin_dave(stack: &local_stack::Stack) -> (User, User, String) {
    let alice = register(stack, &email("alice")).await;
    let org = personal_org(stack, &alice).await;
    let dave = register(stack, &email("dave")).await;
    let path = format!("/v1/organizations/{org}/invitations");
    let invited = post(stack, &path, &alice, json!({ "email": dave.email, "role": "admin" })).await;
    assert_eq!(invited.status, StatusCode::CREATED, "{:?}", invited.body);
    let id = invited.body["invitation_id"].as_str().expect("id");
    let joined = post(stack, &format!("/v1/invitations/{id}/accept"), &dave, json!({})).await;
    assert_eq!(joined.status, StatusCode::OK, "{:?}", joined.body);
    (alice, dave, org)
}

async fn remove(stack: &local_stack::Stack, remover: &User, org: &str, who: &User) -> StatusCode {
    let path = format!("/v1/organizations/{org}/members/{}", who.sub);
    call(stack, "DELETE", &path, Some(&remover.token), None).await.status
}

#[tokio::test]
pub(crate) async fn removing_an_admin_withdraws_the_invitations_they_sent() {
    let stack = stack().await;
    let (alice, dave, org) = alice_with_admin_dave(&stack).await;
    let erin = register(&stack, &email("erin")).await;
    let id = invite(&stack, &dave, &org, &erin.email).await;
    assert_eq!(get(&stack, "/v1/me", &erin).await.body["invitations"].as_array().map(Vec::len), Some(1));

    assert_eq!(remove(&stack, &alice, &org, &dave).await, StatusCode::NO_CONTENT);

    let me = get(&stack, "/v1/me", &erin).await;
    assert_eq!(me.body["invitations"], json!([]), "it left Erin's dashboard");
    let accepted = post(&stack, &format!("/v1/invitations/{id}/accept"), &erin, json!({})).await;
    assert_problem(&accepted, 404, "accepting a withdrawn invitation");
    let pending = get(&stack, &format!("/v1/organizations/{org}/invitations?status=pending"), &alice).await;
    assert_eq!(pending.body["invitations"], json!([]), "nor is it pending on the Members page");
    assert_eq!(invitation_of(&stack, &id).await.status, orgs::domain::InvitationStatus::Revoked);
    // Erin's address is free for an invitation from someone who may still invite.
    invite(&stack, &alice, &org, &erin.email).await;
}

#[tokio::test]
async fn an_invitation_whose_inviter_lost_their_role_cannot_be_accepted() {
    let stack = stack().await;
    let (_alice, dave, org) = alice_with_admin_dave(&stack).await;
    let erin = register(&stack, &email("erin")).await;
    let id = invite(&stack, &dave, &org, &erin.email).await;
    // Dave's membership ends without the removal's withdrawal (as for invitations beyond one
    // transaction, or one written while the removal ran): only accept's own check remains.
    let dynamodb = aws_sdk_dynamodb::Client::new(&emulator().await.sdk_config().await);
    dynamodb
        .delete_item()
        .table_name(&stack.options.table)
        .set_key(Some(local_stack::table::key::membership(
            &orgs::domain::OrgId::parse(&org).expect("org"),
            &orgs::domain::UserId::parse(&dave.sub).expect("user"),
        )))
        .send()
        .await
        .expect("delete Dave's membership");

    let accepted = post(&stack, &format!("/v1/invitations/{id}/accept"), &erin, json!({})).await;

    assert_problem(&accepted, 404, "accepting an invitation from a former admin");
    let me = get(&stack, "/v1/me", &erin).await;
    assert_eq!(me.body["organizations"].as_array().map(Vec::len), Some(1), "Erin did not join");
}

#[tokio::test]
async fn an_admin_removed_while_inviting_leaves_no_acceptable_invitation() {
    // Each round races Dave's invitation of Erin against Alice removing Dave. Whatever order the
    // writes land in, once Dave is gone Erin cannot join through him.
    for round in 0..6 {
        let stack = stack().await;
        let (alice, dave, org) = alice_with_admin_dave(&stack).await;
        let erin = register(&stack, &email("erin")).await;
        let path = format!("/v1/organizations/{org}/invitations");

        let (invited, removed) = join(
            post(&stack, &path, &dave, json!({ "email": erin.email })),
            remove(&stack, &alice, &org, &dave),
        )
        .await;

        assert_eq!(removed, StatusCode::NO_CONTENT, "round {round}: the removal itself always succeeds");
        if invited.status == StatusCode::CREATED {
            let id = invited.body["invitation_id"].as_str().expect("id");
            let accepted = post(&stack, &format!("/v1/invitations/{id}/accept"), &erin, json!({})).await;
            assert_problem(&accepted, 404, &format!("round {round}: accepting Dave's invitation"));
        } else {
            assert_problem(&invited, 404, &format!("round {round}: Dave inviting after his removal"));
        }
        let page = get(&stack, &format!("/v1/organizations/{org}/members"), &alice).await;
        let emails: Vec<_> =
            page.body["members"].as_array().expect("members").iter().map(|m| m["email"].clone()).collect();
        assert_eq!(emails, vec![json!(alice.email)], "round {round}: only Alice is left");
    }
}

#[tokio::test]
async fn removing_an_admin_while_their_invitee_accepts_succeeds_without_a_retry_by_hand() {
    // Each round races Alice removing Dave against Erin accepting Dave's invitation. An accept
    // that lands between the removal's read of Dave's invitations and its write makes the
    // removal's withdrawal fail; that does not change the removal, which reads again: Alice never
    // sees a 409 to retry herself.
    for round in 0..6 {
        let stack = stack().await;
        let (alice, dave, org) = alice_with_admin_dave(&stack).await;
        let erin = register(&stack, &email("erin")).await;
        let id = invite(&stack, &dave, &org, &erin.email).await;

        let (removed, accepted) = join(
            remove(&stack, &alice, &org, &dave),
            post(&stack, &format!("/v1/invitations/{id}/accept"), &erin, json!({})),
        )
        .await;

        assert_eq!(removed, StatusCode::NO_CONTENT, "round {round}: {:?}", accepted.body);
        assert!(
            accepted.status == StatusCode::OK || accepted.status == StatusCode::NOT_FOUND,
            "round {round}: {:?}",
            accepted.body
        );
        let page = get(&stack, &format!("/v1/organizations/{org}/members"), &alice).await;
        let emails: Vec<_> =
            page.body["members"].as_array().expect("members").iter().map(|m| m["email"].clone()).collect();
        assert!(!emails.contains(&json!(dave.email)), "round {round}: Dave is gone");
        assert_eq!(
            emails.contains(&json!(erin.email)),
            accepted.status == StatusCode::OK,
            "round {round}: Erin is a member exactly when her accept won"
        );
    }
}

async fn revoke(stack: &local_stack::Stack, actor: &User, org: &str, id: &str) -> Answer {
    call(stack, "DELETE", &format!("/v1/organizations/{org}/invitations/{id}"), Some(&actor.token), None)
        .await
}

#[tokio::test]
pub(crate) async fn a_revoked_invitation_leaves_the_invitees_dashboard_and_frees_the_address() {
    let stack = stack().await;
    let (alice, dave, org) = alice_with_admin_dave(&stack).await;
    let erin = register(&stack, &email("erin")).await;
    let id = invite(&stack, &alice, &org, &erin.email).await;
    let stranger = register(&stack, &email("mallory")).await;
    let member = register(&stack, &email("frank")).await;
    let frank_id = invite(&stack, &alice, &org, &member.email).await;
    assert_eq!(
        post(&stack, &format!("/v1/invitations/{frank_id}/accept"), &member, json!({})).await.status,
        StatusCode::OK
    );

    assert_problem(&revoke(&stack, &stranger, &org, &id).await, 404, "a non-member revokes");
    assert_problem(
        &revoke(&stack, &member, &org, &id).await,
        403,
        "a plain member revokes another's invitation",
    );
    assert_problem(
        &revoke(&stack, &alice, &org, &uuid::Uuid::new_v4().to_string()).await,
        404,
        "an unknown invitation",
    );

    // An admin revokes the owner's invitation.
    assert_eq!(revoke(&stack, &dave, &org, &id).await.status, StatusCode::NO_CONTENT);
    assert_eq!(get(&stack, "/v1/me", &erin).await.body["invitations"], json!([]));
    assert_problem(
        &post(&stack, &format!("/v1/invitations/{id}/accept"), &erin, json!({})).await,
        404,
        "accepting it",
    );
    assert_problem(&revoke(&stack, &alice, &org, &id).await, 404, "revoking it again");
    let pending = get(&stack, &format!("/v1/organizations/{org}/invitations?status=pending"), &alice).await;
    assert_eq!(pending.body["invitations"], json!([]));
    invite(&stack, &alice, &org, &erin.email).await;
    // An answered one stays answered.
    assert_problem(&revoke(&stack, &alice, &org, &frank_id).await, 409, "revoking an accepted invitation");
}

#[tokio::test]
async fn revoking_while_the_invitee_accepts_leaves_one_answer() {
    for round in 0..6 {
        let stack = stack().await;
        let (alice, _dave, org) = alice_with_admin_dave(&stack).await;
        let erin = register(&stack, &email("erin")).await;
        let id = invite(&stack, &alice, &org, &erin.email).await;

        let (revoked, accepted) = join(
            revoke(&stack, &alice, &org, &id),
            post(&stack, &format!("/v1/invitations/{id}/accept"), &erin, json!({})),
        )
        .await;

        let page = get(&stack, &format!("/v1/organizations/{org}/members"), &alice).await;
        let joined = page.body["members"]
            .as_array()
            .is_some_and(|m| m.iter().any(|m| m["email"] == erin.email.as_str()));
        let log = get(&stack, &format!("/v1/organizations/{org}/events"), &alice).await;
        let about_erin = |action: &str| {
            log.body["events"].as_array().is_some_and(|events| {
                events.iter().any(|e| e["action"] == action && e["subject"]["invitation_id"] == id.as_str())
            })
        };
        match (revoked.status, accepted.status) {
            (StatusCode::NO_CONTENT, _) => {
                assert_problem(&accepted, 404, &format!("round {round}: accepting a revoked invitation"));
                assert!(!joined, "round {round}: revoked, yet Erin joined");
                assert!(about_erin("revoked") && !about_erin("accepted"), "round {round}: {:?}", log.body);
            }
            (_, StatusCode::OK) => {
                assert_problem(&revoked, 409, &format!("round {round}: revoking an accepted invitation"));
                assert!(joined, "round {round}: accepted, yet Erin is not a member");
                assert!(about_erin("accepted") && !about_erin("revoked"), "round {round}: {:?}", log.body);
            }
            other => panic!("round {round}: neither won: {other:?}"),
        }
    }
}
