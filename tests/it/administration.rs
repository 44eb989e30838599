//! Organization administration: permissions, invitation lifetime and resend, rate limits, several
//! organizations, names, and the audit log.

use std::collections::BTreeSet;

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

fn settings(invite: bool, ttl_days: u32) -> Value {
    json!({
        "members_can_invite": invite,
        "members_can_manage_clusters": true,
        "members_can_open_ports": false,
        "invitation_ttl_days": ttl_days,
        "api_key_max_days": 90,
    })
}

async fn put_settings(stack: &local_stack::Stack, actor: &User, org: &str, document: Value) -> Answer {
    call(stack, "PUT", &format!("/v1/organizations/{org}/permissions"), Some(&actor.token), Some(document))
        .await
}

/// Alice's organization with Bob in it as a plain member.
async fn alice_and_bob(stack: &local_stack::Stack) -> (User, User, String) {
    let alice = register(stack, &email("alice")).await;
    let org = personal_org(stack, &alice).await;
    let bob = register(stack, &email("bob")).await;
    let id = invite(stack, &alice, &org, &bob.email).await;
    assert_eq!(
        post(stack, &format!("/v1/invitations/{id}/accept"), &bob, json!({})).await.status,
        StatusCode::OK
    );
    (alice, bob, org)
}

async fn events(stack: &local_stack::Stack, viewer: &User, org: &str) -> Vec<Value> {
    let answer = get(stack, &format!("/v1/organizations/{org}/events?limit=100"), viewer).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    answer.body["events"].as_array().cloned().unwrap_or_default()
}

fn actions(events: &[Value]) -> Vec<&str> {
    events.iter().filter_map(|e| e["action"].as_str()).collect()
}

#[tokio::test]
pub(crate) async fn a_member_invites_members_only_while_the_organization_allows_it() {
    let stack = stack().await;
    let (alice, bob, org) = alice_and_bob(&stack).await;
    let path = format!("/v1/organizations/{org}/invitations");

    let shown = get(&stack, &format!("/v1/organizations/{org}"), &bob).await;
    assert_eq!(shown.body["settings"], settings(false, 7), "the defaults, shown to members");
    assert_problem(
        &post(&stack, &path, &bob, json!({ "email": email("carol") })).await,
        403,
        "off by default",
    );

    assert_eq!(put_settings(&stack, &alice, &org, settings(true, 7)).await.status, StatusCode::OK);
    let carol = email("carol");
    let invited = post(&stack, &path, &bob, json!({ "email": carol })).await;
    assert_eq!(invited.status, StatusCode::CREATED, "{:?}", invited.body);
    assert_problem(
        &post(&stack, &path, &bob, json!({ "email": email("dan"), "role": "admin" })).await,
        403,
        "a member never invites an admin",
    );
    // A plain member never changes the settings, even to turn their own right off.
    assert_problem(&put_settings(&stack, &bob, &org, settings(false, 7)).await, 403, "a member's PUT");

    assert_eq!(put_settings(&stack, &alice, &org, settings(false, 7)).await.status, StatusCode::OK);
    assert_problem(
        &post(&stack, &path, &bob, json!({ "email": email("erin") })).await,
        403,
        "the very next request after the permission is off",
    );
    // What Bob sent while he could stands no longer: as for an inviter who lost their role, Carol
    // finds no invitation to accept (the accept's write checks the permission as it commits).
    let carol = register(&stack, &carol).await;
    let id = invited.body["invitation_id"].as_str().expect("id");
    let accept = format!("/v1/invitations/{id}/accept");
    assert_problem(
        &post(&stack, &accept, &carol, json!({})).await,
        404,
        "a member's invitation, permission off",
    );
    let me = get(&stack, "/v1/me", &carol).await;
    assert_eq!(me.body["organizations"].as_array().map(Vec::len), Some(1), "Carol did not join");
    // Turned on again, the invitation (still pending, within its lifetime) stands again.
    assert_eq!(put_settings(&stack, &alice, &org, settings(true, 7)).await.status, StatusCode::OK);
    assert_eq!(post(&stack, &accept, &carol, json!({})).await.status, StatusCode::OK);

    assert_problem(
        &put_settings(&stack, &alice, &org, settings(true, 31)).await,
        400,
        "a lifetime over 30 days",
    );
    assert_problem(
        &put_settings(&stack, &alice, &org, json!({ "members_can_invite": true })).await,
        400,
        "a partial document",
    );
    let log = events(&stack, &alice, &org).await;
    let changes: Vec<&Value> = log.iter().filter(|e| e["action"] == "settings_changed").collect();
    assert_eq!(changes.len(), 3, "three real changes, each logged once: {log:?}");
    assert_eq!(changes[0]["details"]["members_can_invite"], "false -> true", "newest first");
    assert_eq!(changes[1]["details"]["members_can_invite"], "true -> false");
    assert_eq!(changes[2]["details"]["members_can_invite"], "false -> true");
}

#[tokio::test]
async fn two_admins_editing_the_permissions_cannot_silently_revert_each_other() {
    let stack = stack().await;
    let (alice, bob, org) = alice_and_bob(&stack).await;
    let member = format!("/v1/organizations/{org}/members/{}", bob.sub);
    call(&stack, "PATCH", &member, Some(&alice.token), Some(json!({ "role": "admin" }))).await;
    let put_if = |who: &User, document: Value, version: &str| {
        let (token, version) = (who.token.clone(), version.to_owned());
        let url = format!("{}/v1/organizations/{org}/permissions", stack.api_url);
        async move {
            reqwest::Client::new()
                .put(url)
                .bearer_auth(token)
                .header("if-match", format!("\"{version}\""))
                .json(&document)
                .send()
                .await
                .expect("PUT")
        }
    };

    // Both read the same version (the body's and the ETag agree).
    let path = format!("/v1/organizations/{org}");
    let (alices, bobs) = (get(&stack, &path, &alice).await, get(&stack, &path, &bob).await);
    let version = alices.body["settings_version"].as_str().expect("a version").to_owned();
    assert_eq!(bobs.body["settings_version"], version.as_str());
    let etag = reqwest::Client::new()
        .get(format!("{}{path}", stack.api_url))
        .bearer_auth(&alice.token)
        .send()
        .await
        .expect("GET")
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    assert_eq!(etag, Some(format!("\"{version}\"")));

    // Bob saves first; Alice's save, decided on what she read, is refused, not applied.
    let bobs_save = put_if(&bob, settings(true, 7), &version).await;
    assert_eq!(bobs_save.status(), StatusCode::OK);
    let new_version = bobs_save.headers().get("etag").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let alices_save = put_if(&alice, settings(false, 14), &version).await;
    assert_eq!(alices_save.status(), StatusCode::PRECONDITION_FAILED);
    let problem: Value = alices_save.json().await.expect("problem");
    assert!(
        problem["detail"].as_str().is_some_and(|d| d.contains("changed since you read them")),
        "{problem}"
    );
    let now = get(&stack, &path, &alice).await;
    assert_eq!(now.body["settings"], settings(true, 7), "Bob's change stands");
    assert_eq!(new_version, Some(format!("\"{}\"", now.body["settings_version"].as_str().unwrap_or(""))));

    // With the version she reads now, she may.
    let current = now.body["settings_version"].as_str().expect("version").to_owned();
    assert_eq!(put_if(&alice, settings(false, 14), &current).await.status(), StatusCode::OK);
    assert_eq!(get(&stack, &path, &bob).await.body["settings"], settings(false, 14));
}

/// `abilities` of the organization as `viewer` sees it: action -> (allowed, reason).
async fn abilities(stack: &local_stack::Stack, viewer: &User, org: &str) -> Vec<(String, bool, String)> {
    let view = get(stack, &format!("/v1/organizations/{org}"), viewer).await;
    assert_eq!(view.status, StatusCode::OK, "{:?}", view.body);
    view.body["abilities"]
        .as_array()
        .expect("abilities")
        .iter()
        .map(|a| {
            let reason = a["reason"].as_str().unwrap_or("").to_owned();
            (a["action"].as_str().expect("action").to_owned(), a["allowed"] == json!(true), reason)
        })
        .collect()
}

#[tokio::test]
async fn the_organization_view_tells_each_caller_what_they_may_do_as_the_api_decides_it() {
    let stack = stack().await;
    let (alice, bob, org) = alice_and_bob(&stack).await;
    let of = |list: &[(String, bool, String)], action: &str| {
        list.iter()
            .find(|(a, _, _)| a == action)
            .cloned()
            .unwrap_or_else(|| panic!("no {action} in {list:?}"))
    };
    let owner = abilities(&stack, &alice, &org).await;
    let keys: Vec<&str> = owner.iter().map(|(a, _, _)| a.as_str()).collect();
    let all: Vec<&str> = orgs::domain::authz::Action::ALL.iter().map(|a| a.key()).collect();
    assert_eq!(keys, all, "every action of the table, once, in its order");
    assert!(of(&owner, "transfer_ownership").1 && of(&owner, "invite_admin").1);
    let leave = of(&owner, "leave");
    assert!(!leave.1 && leave.2.contains("transfer ownership first"), "{leave:?}");

    let member = abilities(&stack, &bob, &org).await;
    let invite = of(&member, "invite_member");
    assert!(!invite.1 && invite.2.contains("members_can_invite"), "{invite:?}");
    assert!(of(&member, "operate_clusters").1 && of(&member, "leave").1);
    // Each answer agrees with what the API does on that route.
    let path = format!("/v1/organizations/{org}/invitations");
    assert_problem(&post(&stack, &path, &bob, json!({ "email": email("carol") })).await, 403, "as shown");

    assert_eq!(put_settings(&stack, &alice, &org, settings(true, 7)).await.status, StatusCode::OK);
    let member = abilities(&stack, &bob, &org).await;
    assert_eq!(of(&member, "invite_member"), ("invite_member".to_owned(), true, String::new()));
    assert!(!of(&member, "invite_admin").1, "never an admin");
    let invited = post(&stack, &path, &bob, json!({ "email": email("carol") })).await;
    assert_eq!(invited.status, StatusCode::CREATED, "as shown: {:?}", invited.body);
}

#[tokio::test]
pub(crate) async fn invitations_last_the_organizations_lifetime_and_a_resend_revives_them() {
    let stack = stack().await;
    let alice = register(&stack, &email("alice")).await;
    let org = personal_org(&stack, &alice).await;
    assert_eq!(put_settings(&stack, &alice, &org, settings(false, 2)).await.status, StatusCode::OK);
    let bob = register(&stack, &email("bob")).await;
    let id = invite(&stack, &alice, &org, &bob.email).await;
    mailed_once(&stack, &id, &bob.email).await;
    let created = invitation_of(&stack, &id).await;
    assert_eq!(created.expires_at, created.created_at.plus(time::Duration::days(2)));

    stack.clock.advance(time::Duration::days(2));

    assert_problem(
        &post(&stack, &format!("/v1/invitations/{id}/accept"), &bob, json!({})).await,
        410,
        "late",
    );
    let list = |status: &'static str| {
        let path = format!("/v1/organizations/{org}/invitations?status={status}");
        let (stack, alice) = (&stack, &alice);
        async move { get(stack, &path, alice).await.body["invitations"].clone() }
    };
    assert_eq!(list("expired").await[0]["invitation_id"], id.as_str());
    assert_eq!(list("expired").await[0]["status"], "expired");
    assert_eq!(list("pending").await, json!([]));

    let resent =
        post(&stack, &format!("/v1/organizations/{org}/invitations/{id}/resend"), &alice, json!({})).await;
    assert_eq!(resent.status, StatusCode::OK, "{:?}", resent.body);
    assert_eq!(resent.body["status"], "pending");
    assert_eq!(resent.body["sends"], 2);
    eventually("the second email", || async { (emails_to(&bob.email).await.len() == 2).then_some(()) }).await;
    assert_eq!(list("pending").await[0]["invitation_id"], id.as_str());
    let me = get(&stack, "/v1/me", &bob).await;
    assert_eq!(me.body["invitations"][0]["invitation_id"], id.as_str(), "back on Bob's dashboard");
    assert_eq!(
        post(&stack, &format!("/v1/invitations/{id}/accept"), &bob, json!({})).await.status,
        StatusCode::OK
    );
    assert_eq!(list("accepted").await[0]["invitation_id"], id.as_str());
    assert_problem(
        &post(&stack, &format!("/v1/organizations/{org}/invitations/{id}/resend"), &alice, json!({})).await,
        409,
        "resending an accepted invitation",
    );
    let log = events(&stack, &alice, &org).await;
    assert_eq!(&actions(&log)[..3], ["accepted", "resent", "invited"], "{log:?}");
}

#[tokio::test]
async fn an_expired_invitation_replaced_by_a_new_one_cannot_be_resent() {
    let stack = stack().await;
    let alice = register(&stack, &email("alice")).await;
    let org = personal_org(&stack, &alice).await;
    let bob = email("bob");
    let old = invite(&stack, &alice, &org, &bob).await;
    stack.clock.advance(time::Duration::days(8));
    let new = invite(&stack, &alice, &org, &bob).await;
    let resend =
        post(&stack, &format!("/v1/organizations/{org}/invitations/{old}/resend"), &alice, json!({})).await;
    assert_problem(&resend, 409, "the older invitation");
    assert!(
        resend.body["detail"].as_str().is_some_and(|d| d.contains("has a newer invitation")),
        "{:?}",
        resend.body
    );
    let resend =
        post(&stack, &format!("/v1/organizations/{org}/invitations/{new}/resend"), &alice, json!({})).await;
    assert_eq!(resend.status, StatusCode::OK, "{:?}", resend.body);
}

#[tokio::test]
async fn someone_invited_before_signing_up_finds_the_invitation_in_any_letter_case() {
    let stack = stack().await;
    let alice = register(&stack, &email("alice")).await;
    let org = personal_org(&stack, &alice).await;
    let address = email("zoe");
    let id = invite(&stack, &alice, &org, &address.to_uppercase()).await;
    assert_eq!(invitation_of(&stack, &id).await.email.as_str(), address.as_str());

    // Zoe signs up afterwards, spelling her address with other capitals.
    let (local, domain) = address.split_once('@').expect("address");
    let zoe =
        register(&stack, &format!("{}{}@{}", local[..1].to_uppercase(), &local[1..], domain.to_uppercase()))
            .await;

    let me = get(&stack, "/v1/me", &zoe).await;
    assert_eq!(me.body["user"]["email"], address.as_str());
    assert_eq!(me.body["invitations"][0]["invitation_id"], id.as_str(), "{:?}", me.body);
    let joined = post(&stack, &format!("/v1/invitations/{id}/accept"), &zoe, json!({})).await;
    assert_eq!(joined.status, StatusCode::OK, "{:?}", joined.body);
    assert_eq!(joined.body["org_id"], org.as_str());
}

#[tokio::test]
async fn sixty_parallel_invitations_from_one_organization_let_exactly_fifty_through() {
    let stack = stack().await;
    let alice = register(&stack, &email("alice")).await;
    let org = personal_org(&stack, &alice).await;
    let path = format!("/v1/organizations/{org}/invitations");

    let answers = join_all((0..60).map(|_| {
        let (stack, alice, path) = (&stack, &alice, &path);
        async move { post(stack, path, alice, json!({ "email": email("guest") })).await }
    }))
    .await;

    let created = answers.iter().filter(|a| a.status == StatusCode::CREATED).count();
    let limited: Vec<&Answer> =
        answers.iter().filter(|a| a.status == StatusCode::TOO_MANY_REQUESTS).collect();
    assert_eq!(
        (created, limited.len()),
        (50, 10),
        "{:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    for answer in &limited {
        assert_problem(answer, 429, "over the limit");
        assert!(answer.body["detail"].as_str().is_some_and(|d| d.contains("this organization has sent 50")));
    }
    let retry =
        call(&stack, "POST", &path, Some(&alice.token), Some(json!({ "email": email("late") }))).await;
    assert_problem(&retry, 429, "the 61st");
    // A rolling window: the slots free up 24 hours after they were taken, not at midnight.
    stack.clock.advance(time::Duration::hours(23));
    assert_problem(&post(&stack, &path, &alice, json!({ "email": email("late") })).await, 429, "23 hours on");
    stack.clock.advance(time::Duration::hours(1));
    assert_eq!(
        post(&stack, &path, &alice, json!({ "email": email("late") })).await.status,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn one_address_receives_at_most_ten_invitations_a_day_from_all_organizations() {
    // Fourteen people sign up and invite the same address at once, each from their own
    // organization: the address's slots let exactly ten through (the default limit).
    let stack = stack().await;
    let target = email("popular");
    let mut owners = Vec::new();
    for i in 0..14 {
        let owner = register(&stack, &email(&format!("owner{i}"))).await;
        let org = personal_org(&stack, &owner).await;
        owners.push((owner, org));
    }
    let answers = join_all(owners.iter().map(|(owner, org)| {
        let (stack, target) = (&stack, &target);
        async move {
            post(stack, &format!("/v1/organizations/{org}/invitations"), owner, json!({ "email": target }))
                .await
        }
    }))
    .await;
    let created = answers.iter().filter(|a| a.status == StatusCode::CREATED).count();
    let limited: Vec<&Answer> =
        answers.iter().filter(|a| a.status == StatusCode::TOO_MANY_REQUESTS).collect();
    assert_eq!(
        (created, limited.len()),
        (10, 4),
        "{:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    for refusal in &limited {
        assert_problem(refusal, 429, "the recipient's limit");
        let detail = refusal.body["detail"].as_str().unwrap_or_default();
        assert!(detail.contains("cannot receive more invitations"), "{detail}");
        assert!(!owners.iter().any(|(o, _)| detail.contains(&o.email)), "names no other inviter: {detail}");
    }
    // Other addresses are not held back by it.
    let (owner, org) = &owners[0];
    let other = post(
        &stack,
        &format!("/v1/organizations/{org}/invitations"),
        owner,
        json!({ "email": email("other") }),
    )
    .await;
    assert_eq!(other.status, StatusCode::CREATED, "{:?}", other.body);
}

#[tokio::test]
async fn an_inviter_is_limited_across_all_their_organizations_and_told_when_to_retry() {
    let mut options = local_stack::StackOptions::for_test();
    options.limits.invitations_per_inviter = 5;
    let stack = stack_with(options).await;
    let alice = register(&stack, &email("alice")).await;
    let personal = personal_org(&stack, &alice).await;
    let created = post(&stack, "/v1/organizations", &alice, json!({ "name": "Second team" })).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let second = created.body["org_id"].as_str().expect("org id").to_owned();

    // Eight at once, across both organizations: the inviter's slots let exactly five through.
    let answers = join_all((0..8).map(|i| {
        let (stack, alice) = (&stack, &alice);
        let org = if i % 2 == 0 { &personal } else { &second };
        async move {
            post(
                stack,
                &format!("/v1/organizations/{org}/invitations"),
                alice,
                json!({ "email": email("guest") }),
            )
            .await
        }
    }))
    .await;
    let created = answers.iter().filter(|a| a.status == StatusCode::CREATED).count();
    let limited = answers.iter().filter(|a| a.status == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((created, limited), (5, 3), "{:?}", answers.iter().map(|a| a.status).collect::<Vec<_>>());
    let path = format!("/v1/organizations/{second}/invitations");
    let sixth = reqwest::Client::new()
        .post(format!("{}{path}", stack.api_url))
        .bearer_auth(&alice.token)
        .json(&json!({ "email": email("guest") }))
        .send()
        .await
        .expect("sent");
    assert_eq!(sixth.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = sixth
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After in seconds");
    assert!((86_000..=86_400).contains(&retry_after), "{retry_after}");
    let body: Value = sixth.json().await.expect("problem");
    assert!(body["detail"].as_str().is_some_and(|d| d.contains("you have sent 5")), "{body}");
}

#[tokio::test]
pub(crate) async fn a_user_owns_at_most_twenty_organizations_even_creating_them_in_parallel() {
    let stack = stack().await;
    let alice = register(&stack, &email("alice")).await;
    personal_org(&stack, &alice).await;

    let answers =
        join_all(
            (0..25).map(|i| {
                let (stack, alice) = (&stack, &alice);
                async move {
                    post(stack, "/v1/organizations", alice, json!({ "name": format!("Team {i}") })).await
                }
            }),
        )
        .await;

    let created = answers.iter().filter(|a| a.status == StatusCode::CREATED).count();
    assert_eq!(created, 19, "the personal organization and 19 more");
    for refused in answers.iter().filter(|a| a.status != StatusCode::CREATED) {
        assert_problem(refused, 409, "past twenty");
    }
    let me = get(&stack, "/v1/me", &alice).await;
    assert_eq!(me.body["organizations"].as_array().map(Vec::len), Some(20));
    for bad in [json!({ "name": "   " }), json!({ "name": "a".repeat(65) }), json!({ "name": "a\u{202e}b" })]
    {
        assert_problem(&post(&stack, "/v1/organizations", &alice, bad).await, 400, "a bad name");
    }
}

#[tokio::test]
pub(crate) async fn a_rename_reaches_every_members_dashboard_and_every_invitees() {
    let stack = stack().await;
    let (alice, bob, org) = alice_and_bob(&stack).await;
    let carol = register(&stack, &email("carol")).await;
    invite(&stack, &alice, &org, &carol.email).await;

    let renamed = call(
        &stack,
        "PATCH",
        &format!("/v1/organizations/{org}"),
        Some(&bob.token),
        Some(json!({ "name": "Ignored" })),
    )
    .await;
    assert_problem(&renamed, 403, "a member renames");
    let renamed = call(
        &stack,
        "PATCH",
        &format!("/v1/organizations/{org}"),
        Some(&alice.token),
        Some(json!({ "name": "  Данные 🚀 " })),
    )
    .await;
    assert_eq!(renamed.status, StatusCode::OK, "{:?}", renamed.body);
    assert_eq!(renamed.body["name"], "Данные 🚀");

    let name_on = |user: &User| {
        let (stack, org) = (&stack, &org);
        let token_user = user.clone();
        async move {
            let me = get(stack, "/v1/me", &token_user).await;
            let listed = me.body["organizations"].as_array().cloned().unwrap_or_default();
            let mine = listed.iter().find(|o| o["org_id"] == org.as_str()).map(|o| o["name"].clone());
            let invited = me.body["invitations"].as_array().cloned().unwrap_or_default();
            mine.or_else(|| {
                invited.iter().find(|i| i["org_id"] == org.as_str()).map(|i| i["org_name"].clone())
            })
        }
    };
    for user in [&alice, &bob, &carol] {
        eventually("the new name on every dashboard", || async {
            (name_on(user).await == Some(json!("Данные 🚀"))).then_some(())
        })
        .await;
    }
    let log = events(&stack, &alice, &org).await;
    assert_eq!(log[0]["action"], "organization_renamed");
    assert_eq!(log[0]["details"]["to"], "Данные 🚀");
}

#[tokio::test]
pub(crate) async fn the_audit_log_tells_managers_what_happened_newest_first() {
    let stack = stack().await;
    let (alice, bob, org) = alice_and_bob(&stack).await;
    let path = format!("/v1/organizations/{org}/members/{}", bob.sub);
    assert_eq!(
        call(&stack, "PATCH", &path, Some(&alice.token), Some(json!({ "role": "admin" }))).await.status,
        StatusCode::OK
    );
    let carol = email("carol");
    let id = invite(&stack, &bob, &org, &carol).await;
    let revoke = format!("/v1/organizations/{org}/invitations/{id}");
    assert_eq!(
        call(&stack, "DELETE", &revoke, Some(&alice.token), None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        call(&stack, "DELETE", &path, Some(&bob.token), None).await.status,
        StatusCode::NO_CONTENT,
        "Bob leaves"
    );

    let log = events(&stack, &alice, &org).await;
    assert_eq!(
        actions(&log),
        [
            "left",
            "revoked",
            "invited",
            "role_changed",
            "accepted",
            "invited",
            "credits_granted",
            "organization_created"
        ],
        "{log:#?}"
    );
    assert_eq!(log[0]["actor"]["email"], bob.email.as_str(), "who left, named after they are gone");
    assert_eq!(log[1]["subject"]["email"], carol.as_str());
    assert_eq!(log[3]["details"]["to"], "admin");
    assert_eq!(log[4]["actor"]["user_id"], bob.sub.as_str());

    // A page at a time, each event once.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut page_path = format!("/v1/organizations/{org}/events?limit=3");
        if let Some(c) = &cursor {
            page_path.push_str(&format!("&cursor={c}"));
        }
        let page = get(&stack, &page_path, &alice).await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        seen.extend(page.body["events"].as_array().cloned().unwrap_or_default());
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, log);

    // Plain members may not read it; a cursor of this list does not open another organization's.
    let dan = register(&stack, &email("dan")).await;
    let dans = personal_org(&stack, &dan).await;
    let id = invite(&stack, &alice, &org, &dan.email).await;
    post(&stack, &format!("/v1/invitations/{id}/accept"), &dan, json!({})).await;
    assert_problem(&get(&stack, &format!("/v1/organizations/{org}/events"), &dan).await, 403, "a member");
    let first = get(&stack, &format!("/v1/organizations/{org}/events?limit=1"), &alice).await;
    let foreign = first.body["next_cursor"].as_str().expect("a cursor");
    assert_problem(
        &get(&stack, &format!("/v1/organizations/{dans}/events?cursor={foreign}"), &dan).await,
        400,
        "another organization's cursor",
    );
    let ids: BTreeSet<&str> = log.iter().filter_map(|e| e["event_id"].as_str()).collect();
    assert_eq!(ids.len(), log.len(), "every event has its own id");
}
