//! The first slice of the product, end to end: register, invite (with the email), see, accept,
//! share, stay private, remove.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

#[tokio::test]
pub(crate) async fn alice_invites_bob_who_joins_carol_sees_nothing_and_bob_is_removed() {
    let stack = stack().await;

    // 1. Alice signs up: a personal organization, owned by her.
    let alice = register(&stack, &email("alice")).await;
    let me = get(&stack, "/v1/me", &alice).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["user"]["email"], alice.email.as_str());
    let orgs = me.body["organizations"].as_array().expect("organizations");
    assert_eq!(orgs.len(), 1);
    assert_eq!(orgs[0]["role"], "owner");
    let org = orgs[0]["org_id"].as_str().expect("org id").to_owned();
    assert_eq!(me.body["user"]["personal_org_id"], org.as_str());

    // 2. Alice invites Bob, who gets an email naming the org, the inviter, role, expiry and link.
    let bob_email = email("bob");
    let created = post(
        &stack,
        &format!("/v1/organizations/{org}/invitations"),
        &alice,
        json!({"email": bob_email.to_uppercase(), "role": "member"}),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    assert_eq!(created.body["email"], bob_email.as_str(), "the address is stored lowercased");
    assert_eq!(created.body["status"], "pending");
    let invitation = created.body["invitation_id"].as_str().expect("id").to_owned();
    let mails = eventually("the invitation email", || async {
        let mails = emails_to(&bob_email).await;
        (!mails.is_empty()).then_some(mails)
    })
    .await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    let org_name = orgs[0]["name"].as_str().expect("name");
    assert!(mail.subject.contains(org_name) && mail.subject.contains(&alice.email), "{}", mail.subject);
    assert!(mail.body.contains("as a member"), "{}", mail.body);
    assert!(mail.body.contains(&format!("https://app.orgs.test/invitations/{invitation}")), "{}", mail.body);
    assert!(mail.body.contains("expires on"), "{}", mail.body);
    assert_eq!(mail.source, stack.options.sender);
    let delivery = eventually("the recorded delivery", || delivery_of(&stack, &invitation)).await;
    assert_eq!(delivery.message_id, mail.id);

    // 3. Bob's dashboard shows the invitation; Alice's Members page shows him as invited.
    let bob = register(&stack, &bob_email).await;
    let me = get(&stack, "/v1/me", &bob).await;
    let pending = me.body["invitations"].as_array().expect("invitations");
    assert_eq!(pending.len(), 1, "{:?}", me.body);
    assert_eq!(pending[0]["invitation_id"], invitation.as_str());
    assert_eq!(pending[0]["org_name"], org_name);
    assert_eq!(pending[0]["invited_by_email"], alice.email.as_str());
    assert_eq!(pending[0]["role"], "member");
    assert!(pending[0]["expires_at"].is_string());
    let page = get(&stack, &format!("/v1/organizations/{org}/members"), &alice).await;
    let pending = get(&stack, &format!("/v1/organizations/{org}/invitations?status=pending"), &alice).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.body["members"].as_array().map(Vec::len), Some(1));
    assert_eq!(pending.body["invitations"][0]["email"], bob_email.as_str());

    // 5. Carol sees nothing of Alice's organization and cannot accept Bob's invitation.
    let carol = register(&stack, &email("carol")).await;
    for path in [format!("/v1/organizations/{org}"), format!("/v1/organizations/{org}/members")] {
        assert_problem(&get(&stack, &path, &carol).await, 404, &path);
    }
    let stolen = post(&stack, &format!("/v1/invitations/{invitation}/accept"), &carol, json!({})).await;
    assert_problem(&stolen, 404, "carol accepting bob's invitation");
    let carol_invites = post(
        &stack,
        &format!("/v1/organizations/{org}/invitations"),
        &carol,
        json!({"email": "x@example.com"}),
    )
    .await;
    assert_problem(&carol_invites, 404, "carol inviting into alice's organization");

    // 4. Bob accepts; both see one organization with two members, and Bob's dashboard lists it.
    let accepted = post(&stack, &format!("/v1/invitations/{invitation}/accept"), &bob, json!({})).await;
    assert_eq!(accepted.status, StatusCode::OK, "{:?}", accepted.body);
    assert_eq!(accepted.body["role"], "member");
    for user in [&alice, &bob] {
        let page = get(&stack, &format!("/v1/organizations/{org}/members"), user).await;
        let pending = get(&stack, &format!("/v1/organizations/{org}/invitations?status=pending"), user).await;
        assert_eq!(page.status, StatusCode::OK);
        let mut emails: Vec<_> = page.body["members"]
            .as_array()
            .expect("members")
            .iter()
            .map(|m| m["email"].to_string())
            .collect();
        emails.sort();
        let mut expected = vec![json!(alice.email).to_string(), json!(bob_email).to_string()];
        expected.sort();
        assert_eq!(emails, expected);
        assert_eq!(pending.body["invitations"], json!([]));
    }
    let me = get(&stack, "/v1/me", &bob).await;
    let bob_orgs: Vec<_> = me.body["organizations"]
        .as_array()
        .expect("orgs")
        .iter()
        .map(|o| (o["org_id"].clone(), o["role"].clone()))
        .collect();
    assert!(bob_orgs.contains(&(json!(org), json!("member"))), "{bob_orgs:?}");
    assert_eq!(me.body["invitations"], json!([]));
    let again = post(&stack, &format!("/v1/invitations/{invitation}/accept"), &bob, json!({})).await;
    assert_problem(&again, 409, "accepting twice");

    // A plain member may read but not manage.
    let by_member =
        post(&stack, &format!("/v1/organizations/{org}/invitations"), &bob, json!({"email": email("dave")}))
            .await;
    assert_problem(&by_member, 403, "a member inviting");

    // 6. Alice removes Bob: his very next request on the organization is refused.
    let removed = call(
        &stack,
        "DELETE",
        &format!("/v1/organizations/{org}/members/{}", bob.sub),
        Some(&alice.token),
        None,
    )
    .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{:?}", removed.body);
    assert_problem(&get(&stack, &format!("/v1/organizations/{org}"), &bob).await, 404, "bob after removal");
    assert_problem(
        &get(&stack, &format!("/v1/organizations/{org}/members"), &bob).await,
        404,
        "bob after removal",
    );
    let me = get(&stack, "/v1/me", &bob).await;
    assert!(!me.body["organizations"].as_array().expect("orgs").iter().any(|o| o["org_id"] == json!(org)));

    // The owner cannot be removed, by herself or anyone.
    let owner = call(
        &stack,
        "DELETE",
        &format!("/v1/organizations/{org}/members/{}", alice.sub),
        Some(&alice.token),
        None,
    )
    .await;
    assert_problem(&owner, 409, "removing the owner");
    let page = get(&stack, &format!("/v1/organizations/{org}/members"), &alice).await;
    assert_eq!(page.body["members"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_retried_registration_creates_nothing_twice() {
    let stack = stack().await;
    let alice = register(&stack, &email("alice")).await;
    let event =
        lambda_runtime::LambdaEvent::new(post_confirmation(&alice.sub, &alice.email), Default::default());
    let returned =
        local_stack::identity::as_function("register-user", register_user::handle(&stack.registrar, event))
            .await
            .expect("retry succeeds");
    assert_eq!(returned.request.user_attributes["sub"], alice.sub, "the event goes back to Cognito");
    let me = get(&stack, "/v1/me", &alice).await;
    assert_eq!(me.body["organizations"].as_array().map(Vec::len), Some(1), "{:?}", me.body);
}

#[tokio::test]
pub(crate) async fn a_user_the_trigger_missed_is_registered_by_their_first_dashboard_visit() {
    let stack = stack().await;
    let sub = uuid::Uuid::new_v4().to_string();
    let token = stack.issuer.token(&sub, "Newcomer@Example.com");
    let (first, second) = tokio::join!(
        call(&stack, "GET", "/v1/me", Some(&token), None),
        call(&stack, "GET", "/v1/me", Some(&token), None),
    );
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    assert_eq!(second.status, StatusCode::OK, "{:?}", second.body);
    assert_eq!(first.body["user"]["email"], "newcomer@example.com");
    assert_eq!(first.body["user"], second.body["user"], "both visits see the one registration");
    assert_eq!(first.body["organizations"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
pub(crate) async fn a_member_may_leave_but_not_remove_others() {
    let stack = stack().await;
    let alice = register(&stack, &email("alice")).await;
    let org = personal_org(&stack, &alice).await;
    let (bob, carol) = (register(&stack, &email("bob")).await, register(&stack, &email("carol")).await);
    for user in [&bob, &carol] {
        let id = invite(&stack, &alice, &org, &user.email).await;
        let accepted = post(&stack, &format!("/v1/invitations/{id}/accept"), user, json!({})).await;
        assert_eq!(accepted.status, StatusCode::OK);
    }
    let path = |u: &User| format!("/v1/organizations/{org}/members/{}", u.sub);
    assert_problem(
        &call(&stack, "DELETE", &path(&carol), Some(&bob.token), None).await,
        403,
        "bob removing carol",
    );
    let left = call(&stack, "DELETE", &path(&bob), Some(&bob.token), None).await;
    assert_eq!(left.status, StatusCode::NO_CONTENT);
    assert_problem(
        &call(&stack, "DELETE", &path(&bob), Some(&alice.token), None).await,
        404,
        "removing twice",
    );
    // Bob's email is free again: he can be invited back.
    invite(&stack, &alice, &org, &bob.email).await;
}

#[tokio::test]
pub(crate) async fn a_persons_address_follows_the_email_their_identity_provider_verified() {
    let stack = stack().await;
    let alice = register(&stack, &email("alice")).await;
    let bob = register(&stack, &email("bob")).await;
    let bobs = personal_org(&stack, &bob).await;
    let joined = invite(&stack, &bob, &bobs, &alice.email).await;
    assert_eq!(
        post(&stack, &format!("/v1/invitations/{joined}/accept"), &alice, json!({})).await.status,
        StatusCode::OK
    );
    let carol = register(&stack, &email("carol")).await;
    let to_old = invite(&stack, &carol, &personal_org(&stack, &carol).await, &alice.email).await;
    let new_address = email("alice-new");
    let dave = register(&stack, &email("dave")).await;
    let to_new = invite(&stack, &dave, &personal_org(&stack, &dave).await, &new_address).await;

    // Alice changes her address with her identity provider: her next token carries the new one,
    // verified.
    let renamed = User { token: stack.issuer.token(&alice.sub, &new_address), ..alice.clone() };
    let me = get(&stack, "/v1/me", &renamed).await;
    assert_eq!(me.body["user"]["email"], new_address.as_str(), "{:?}", me.body);
    let invited: Vec<&str> = me.body["invitations"]
        .as_array()
        .expect("invitations")
        .iter()
        .filter_map(|i| i["invitation_id"].as_str())
        .collect();
    assert_eq!(invited, [to_new.as_str()], "the invitations to her address now, not to the old one");

    // In Bob's organization she is listed under it, and the old address is free to invite.
    let members = get(&stack, &format!("/v1/organizations/{bobs}/members"), &bob).await;
    let emails: Vec<&str> = members.body["members"]
        .as_array()
        .expect("members")
        .iter()
        .filter_map(|m| m["email"].as_str())
        .collect();
    assert!(emails.contains(&new_address.as_str()) && !emails.contains(&alice.email.as_str()), "{emails:?}");
    invite(&stack, &bob, &bobs, &alice.email).await;

    // She answers what is addressed to her now; what was addressed to her old address is no
    // longer hers to answer.
    assert_eq!(
        post(&stack, &format!("/v1/invitations/{to_new}/accept"), &renamed, json!({})).await.status,
        StatusCode::OK
    );
    assert_problem(
        &post(&stack, &format!("/v1/invitations/{to_old}/accept"), &renamed, json!({})).await,
        404,
        "the old address's",
    );

    // A token issued before the change, still valid for its hour, does not take the old address back.
    let me = get(&stack, "/v1/me", &alice).await;
    assert_eq!(me.body["user"]["email"], new_address.as_str());
    assert_problem(
        &post(&stack, &format!("/v1/invitations/{to_old}/accept"), &alice, json!({})).await,
        404,
        "with the old token",
    );
}
