//! Changing a member's role: who may, what cannot change, what a demotion takes with it, and two
//! admins demoting each other at once.

use futures::future::{join, join_all};
use reqwest::StatusCode;
use serde_json::{Value, json};

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
pub(crate) async fn the_owner_promotes_and_demotes_and_the_change_holds_at_once() {
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
pub(crate) async fn a_demoted_admin_takes_their_open_invitations_with_them() {
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
        // The audit log tells the one demotion that happened, by the admin who is left.
        let log = audit_log(&stack, &alice, &org).await;
        let demotions: Vec<&Value> =
            log.iter().filter(|e| e["action"] == "role_changed" && e["details"]["to"] == "member").collect();
        assert_eq!(demotions.len(), 1, "round {round}: {log:?}");
        let winner = if bob_demotes.status == StatusCode::OK { &bob } else { &carol };
        assert_eq!(demotions[0]["actor"]["user_id"], winner.sub.as_str(), "round {round}");
    }
}

#[tokio::test]
async fn an_admins_own_role_change_racing_their_demotion_never_undoes_it() {
    // Bob, an admin, sets his own role to admin (read while he is one) as Alice demotes him. If his
    // write lands after hers, its condition (his role as read) refuses it and he reads again: he
    // is a member now, who may not change roles. Whatever the order, he ends a member.
    let stack = stack().await;
    let (alice, bob, _carol, org) = alice_bob_and_carol(&stack).await;
    for round in 0..8 {
        assert_eq!(
            set_role(&stack, &alice, &org, &bob, "admin").await.status,
            StatusCode::OK,
            "round {round}"
        );
        let (his, hers) =
            join(set_role(&stack, &bob, &org, &bob, "admin"), set_role(&stack, &alice, &org, &bob, "member"))
                .await;
        assert_eq!(hers.status, StatusCode::OK, "round {round}: {:?}", hers.body);
        assert!(
            his.status == StatusCode::OK || his.status == StatusCode::FORBIDDEN,
            "round {round}: never a 409 to retry by hand: {:?}",
            his.body
        );
        assert_eq!(role_of(&stack, &alice, &org, &bob).await, "member", "round {round}: the demotion holds");
    }
}

#[tokio::test]
async fn a_role_change_decided_on_a_role_that_changed_meanwhile_is_refused_by_its_write() {
    // The interleaving the race above may or may not produce, made certain: Bob's own change is
    // read while he is an admin, Alice's demotion lands, then Bob's write comes.
    let stack = stack().await;
    let (alice, bob, _carol, org) = alice_bob_and_carol(&stack).await;
    assert_eq!(set_role(&stack, &alice, &org, &bob, "admin").await.status, StatusCode::OK);
    let org_id = orgs::domain::OrgId::parse(&org).expect("org");
    let bob_id = orgs::domain::UserId::parse(&bob.sub).expect("user");
    let (_, [read, _]) = stack.api.store.organization_with(&org_id, [&bob_id, &bob_id]).await.expect("read");
    let as_read = read.expect("Bob's membership");
    assert_eq!(set_role(&stack, &alice, &org, &bob, "member").await.status, StatusCode::OK);

    let late = stack
        .api
        .store
        .change_role(&as_read, None, &as_read, orgs::domain::InviteRole::Admin, stack.api.now())
        .await;
    assert!(matches!(late, Err(orgs::DomainError::Stale(_))), "{late:?}");
    assert_eq!(role_of(&stack, &alice, &org, &bob).await, "member", "the demotion holds");
}

/// The organization's audit log, newest first (one page is enough for these tests).
async fn audit_log(stack: &local_stack::Stack, viewer: &User, org: &str) -> Vec<Value> {
    let answer = get(stack, &format!("/v1/organizations/{org}/events?limit=100"), viewer).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    answer.body["events"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn an_admin_demoted_while_sending_ten_invitations_leaves_none_open() {
    for round in 0..3 {
        let stack = stack().await;
        let (alice, bob, _carol, org) = alice_bob_and_carol(&stack).await;
        assert_eq!(set_role(&stack, &alice, &org, &bob, "admin").await.status, StatusCode::OK);
        let path = format!("/v1/organizations/{org}/invitations");
        let guests: Vec<String> = (0..10).map(|_| email("guest")).collect();

        let (invited, demoted) = join(
            join_all(guests.iter().map(|g| post(&stack, &path, &bob, json!({ "email": g })))),
            set_role(&stack, &alice, &org, &bob, "member"),
        )
        .await;

        assert_eq!(demoted.status, StatusCode::OK, "round {round}: {:?}", demoted.body);
        let mut created = Vec::new();
        for answer in &invited {
            match answer.status {
                StatusCode::CREATED => {
                    created.push(answer.body["invitation_id"].as_str().expect("id").to_owned())
                }
                _ => assert_problem(answer, 403, &format!("round {round}: inviting after the demotion")),
            }
        }
        // Whatever Bob got in before the demotion committed went with it; nothing after it exists.
        for id in &created {
            assert_eq!(
                invitation_of(&stack, id).await.status,
                orgs::domain::InvitationStatus::Revoked,
                "round {round}: {id} is still open"
            );
        }
        let pending = get(&stack, &format!("{path}?status=pending"), &alice).await;
        assert_eq!(pending.body["invitations"], json!([]), "round {round}");
        let log = audit_log(&stack, &alice, &org).await;
        let count = |action: &str| log.iter().filter(|e| e["action"] == action).count();
        assert_eq!(count("revoked"), created.len(), "round {round}: each withdrawal is in the log");
        // Bob and Carol were invited by Alice; the guests Bob got in are the rest.
        assert_eq!(count("invited"), created.len() + 2, "round {round}");
    }
}

async fn transfer(stack: &local_stack::Stack, owner: &User, org: &str, to: &str) -> Answer {
    let path = format!("/v1/organizations/{org}/ownership");
    call(stack, "POST", &path, Some(&owner.token), Some(json!({ "user_id": to }))).await
}

/// The organization's owners as its Members page lists them, and its `owner_id`.
async fn owners(stack: &local_stack::Stack, viewer: &User, org: &str) -> (Vec<String>, String) {
    let page = get(stack, &format!("/v1/organizations/{org}/members"), viewer).await;
    let owners = page.body["members"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|m| m["role"] == "owner")
        .filter_map(|m| m["user_id"].as_str().map(str::to_owned))
        .collect();
    let organization = get(stack, &format!("/v1/organizations/{org}"), viewer).await;
    (owners, organization.body["owner_id"].as_str().unwrap_or("").to_owned())
}

#[tokio::test]
pub(crate) async fn the_owner_hands_the_organization_to_a_member_and_becomes_an_admin() {
    let stack = stack().await;
    let (alice, bob, carol, org) = alice_bob_and_carol(&stack).await;
    let stranger = register(&stack, &email("mallory")).await;

    assert_problem(&transfer(&stack, &carol, &org, &carol.sub).await, 403, "a member transfers");
    assert_problem(&transfer(&stack, &alice, &org, &stranger.sub).await, 404, "to a non-member");
    assert_problem(&transfer(&stack, &alice, &org, &alice.sub).await, 409, "to oneself");
    assert_problem(&transfer(&stack, &alice, &org, "not-a-user").await, 404, "to a malformed id");

    let done = transfer(&stack, &alice, &org, &bob.sub).await;
    assert_eq!(done.status, StatusCode::OK, "{:?}", done.body);
    assert_eq!(done.body["owner_id"], bob.sub.as_str());
    assert_eq!(owners(&stack, &alice, &org).await, (vec![bob.sub.clone()], bob.sub.clone()));
    assert_eq!(role_of(&stack, &alice, &org, &alice).await, "admin");

    // The old owner holds an admin's rights only; the new one may leave only by handing it on.
    assert_problem(&transfer(&stack, &alice, &org, &carol.sub).await, 403, "the old owner transfers again");
    let leave = format!("/v1/organizations/{org}/members/{}", bob.sub);
    assert_problem(
        &call(&stack, "DELETE", &leave, Some(&bob.token), None).await,
        409,
        "the new owner leaves",
    );
    let bob_me = get(&stack, "/v1/me", &bob).await;
    let role_in_org = bob_me.body["organizations"]
        .as_array()
        .and_then(|orgs| orgs.iter().find(|o| o["org_id"] == org.as_str()).map(|o| o["role"].clone()));
    assert_eq!(role_in_org, Some(json!("owner")), "Bob's dashboard says so");
}

#[tokio::test]
async fn transferring_to_a_member_who_is_being_removed_leaves_exactly_one_owner() {
    for round in 0..6 {
        let stack = stack().await;
        let (alice, bob, carol, org) = alice_bob_and_carol(&stack).await;
        assert_eq!(set_role(&stack, &alice, &org, &bob, "admin").await.status, StatusCode::OK);
        let removal = format!("/v1/organizations/{org}/members/{}", carol.sub);

        let (transferred, removed) = join(
            transfer(&stack, &alice, &org, &carol.sub),
            call(&stack, "DELETE", &removal, Some(&bob.token), None),
        )
        .await;

        let (owner_ids, owner_id) = owners(&stack, &alice, &org).await;
        assert_eq!(owner_ids.len(), 1, "round {round}: exactly one owner: {owner_ids:?}");
        assert_eq!(owner_ids[0], owner_id, "round {round}: the organization names the same owner");
        let log = audit_log(&stack, &alice, &org).await;
        let logged = |action: &str| log.iter().filter(|e| e["action"] == action).count();
        match (transferred.status, removed.status) {
            (StatusCode::OK, _) => {
                assert_eq!(owner_id, carol.sub, "round {round}");
                assert_problem(&removed, 409, &format!("round {round}: removing the new owner"));
                assert_eq!((logged("ownership_transferred"), logged("removed")), (1, 0), "round {round}");
            }
            (_, StatusCode::NO_CONTENT) => {
                assert_eq!(owner_id, alice.sub, "round {round}");
                assert_problem(
                    &transferred,
                    404,
                    &format!("round {round}: transferring to a removed member"),
                );
                assert_eq!((logged("ownership_transferred"), logged("removed")), (0, 1), "round {round}");
            }
            other => panic!("round {round}: neither won: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_transfer_to_a_member_removed_after_it_was_read_changes_nothing() {
    // The interleaving the race above rarely meets: the transfer has read Carol's membership,
    // then her removal commits, then the transfer writes. Its condition alone must refuse.
    let stack = stack().await;
    let (alice, _bob, carol, org) = alice_bob_and_carol(&stack).await;
    let org_id = orgs::domain::OrgId::parse(&org).expect("org id");
    let users = [
        &orgs::domain::UserId::parse(&alice.sub).expect("id"),
        &orgs::domain::UserId::parse(&carol.sub).expect("id"),
    ];
    let (_, [owner, member]) = stack.api.store.organization_with(&org_id, users).await.expect("read");
    let (owner, member) = (owner.expect("alice"), member.expect("carol"));
    let removal = format!("/v1/organizations/{org}/members/{}", carol.sub);
    assert_eq!(
        call(&stack, "DELETE", &removal, Some(&alice.token), None).await.status,
        StatusCode::NO_CONTENT
    );

    let result = stack.api.store.transfer_ownership(&owner, &member, 20, stack.api.now()).await;

    assert!(matches!(result, Err(orgs::DomainError::NotFound("member"))), "{result:?}");
    assert_eq!(owners(&stack, &alice, &org).await, (vec![alice.sub.clone()], alice.sub.clone()));
}
