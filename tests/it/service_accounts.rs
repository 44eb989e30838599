//! Service accounts and their API keys: a key acts by its scopes alone, belongs to the
//! organization (it outlives the admin who made it), stops at once when revoked or deleted, is
//! refused when expired, and a mistyped one is refused without a table read. Caps hold under
//! parallel creation.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

/// Alice's organization with a connected account, Bob an admin of it.
async fn organization(stack: &local_stack::Stack) -> (User, User, String) {
    let alice = register(stack, &email("alice")).await;
    let bob = register(stack, &email("bob")).await;
    let org = personal_org(stack, &alice).await;
    let id = invite(stack, &alice, &org, &bob.email).await;
    let joined = post(stack, &format!("/v1/invitations/{id}/accept"), &bob, json!({})).await;
    assert_eq!(joined.status, StatusCode::OK, "{:?}", joined.body);
    let path = format!("/v1/organizations/{org}/members/{}", bob.sub);
    let promoted = call(stack, "PATCH", &path, Some(&alice.token), Some(json!({ "role": "admin" }))).await;
    assert_eq!(promoted.status, StatusCode::OK, "{:?}", promoted.body);
    let role = "arn:aws:iam::111122223333:role/orgs-clusters";
    stack.customer_trusts(role, &org).await.expect("trusted");
    let account = json!({ "provider": "aws", "role_arn": role, "region": "eu-west-1" });
    let path = format!("/v1/organizations/{org}/cloud-account");
    assert_eq!(call(stack, "PUT", &path, Some(&alice.token), Some(account)).await.status, StatusCode::OK);
    (alice, bob, org)
}

/// A cluster of Alice's, moved as the provisioner would to running.
async fn running_cluster(stack: &local_stack::Stack, alice: &User, org: &str) -> String {
    cluster_through(stack, alice, org, &[orgs::domain::Transition::Running]).await
}

/// A cluster of Alice's, moved as the provisioner would through `steps`.
async fn cluster_through(
    stack: &local_stack::Stack,
    alice: &User,
    org: &str,
    steps: &[orgs::domain::Transition],
) -> String {
    let spec =
        json!({ "name": "etl", "instance_type": "m5.large", "workers": 0, "user_management": "disabled" });
    let created =
        call(stack, "POST", &format!("/v1/organizations/{org}/clusters"), Some(&alice.token), Some(spec))
            .await;
    assert_eq!(created.status, StatusCode::ACCEPTED, "{:?}", created.body);
    let id = created.body["cluster_id"].as_str().expect("id").to_owned();
    let org_id = orgs::domain::OrgId::parse(org).expect("org");
    let cluster_id = orgs::domain::ClusterId::parse(&id).expect("id");
    let store = &stack.api.store;
    for step in steps {
        let cluster = store.cluster(&org_id, &cluster_id).await.expect("read").expect("cluster");
        store.transition(&cluster, *step, None, Default::default(), stack.api.now()).await.expect("moved");
    }
    id
}

fn secret(key: &Value) -> String {
    key["key"].as_str().expect("the key, shown once").to_owned()
}

#[tokio::test]
pub(crate) async fn a_key_acts_by_its_scopes_outlives_its_creator_and_stops_when_revoked() {
    let stack = stack().await;
    let (alice, bob, org) = organization(&stack).await;
    let cluster = running_cluster(&stack, &alice, &org).await;

    // Bob, an admin, makes the nightly job's account and a key that may read and operate.
    let account = service_account(&stack, &bob, &org).await;
    let made = api_key(&stack, &bob, &org, &account, json!(["operate_clusters", "read"])).await;
    let key = secret(&made);
    let key_id = made["key_id"].as_str().expect("key id").to_owned();
    assert!(key.starts_with("ocak_") && key.len() == 55, "{key}");
    assert_eq!(made["scopes"], json!(["read", "operate_clusters"]));
    assert_eq!(made["expired"], json!(false));

    // It stops the cluster (202) and may not invite (403), change roles or read the audit log.
    let base = format!("/v1/organizations/{org}");
    let stopped =
        call(&stack, "POST", &format!("{base}/clusters/{cluster}/stop"), Some(&key), Some(json!({}))).await;
    assert_eq!(stopped.status, StatusCode::ACCEPTED, "{:?}", stopped.body);
    let invited = call(
        &stack,
        "POST",
        &format!("{base}/invitations"),
        Some(&key),
        Some(json!({ "email": email("friend"), "role": "member" })),
    )
    .await;
    assert_problem(&invited, 403, "a key may not invite");
    let events = call(&stack, "GET", &format!("{base}/events"), Some(&key), None).await;
    assert_problem(&events, 403, "read_events is not among its scopes");
    assert!(events.body["detail"].as_str().unwrap_or("").contains("read_events"), "{:?}", events.body);
    let promote = call(
        &stack,
        "PATCH",
        &format!("{base}/members/{}", alice.sub),
        Some(&key),
        Some(json!({ "role": "admin" })),
    )
    .await;
    assert_problem(&promote, 403, "a key never manages roles");
    let own_keys = call(&stack, "GET", &format!("{base}/service-accounts"), Some(&key), None).await;
    assert_problem(&own_keys, 403, "a key never manages service accounts");

    // The audit log names the service account and the key, not Bob.
    let log = get(&stack, &format!("{base}/events"), &alice).await;
    let stop = log.body["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["action"] == "cluster_action_requested")
        .cloned()
        .expect("the stop is in the log");
    assert_eq!(stop["actor"]["service_account_id"], json!(account));
    assert_eq!(stop["actor"]["key_id"], json!(key_id));
    assert!(stop["actor"].get("user_id").is_none(), "{stop}");
    let cluster_now = get(&stack, &format!("{base}/clusters/{cluster}"), &alice).await;
    assert!(
        matches!(cluster_now.body["state"].as_str(), Some("stopping" | "stopped")),
        "{:?}",
        cluster_now.body
    );
    assert_eq!(cluster_now.body["last_actor"], format!("sa:{account}"), "the cluster names who acted");

    // Bob leaves the organization (removed by Alice): the organization's key keeps working.
    let removed =
        call(&stack, "DELETE", &format!("{base}/members/{}", bob.sub), Some(&alice.token), None).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{:?}", removed.body);
    let listed = call(&stack, "GET", &format!("{base}/clusters"), Some(&key), None).await;
    assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.body);

    // The list shows the key's use, never the key.
    let accounts = get(&stack, &format!("{base}/service-accounts"), &alice).await;
    assert_eq!(accounts.status, StatusCode::OK, "{:?}", accounts.body);
    let text = accounts.body.to_string();
    assert!(!text.contains(&key) && !text.contains(&key[5..40]), "no key in a list: {text}");
    let shown = &accounts.body["service_accounts"][0]["keys"][0];
    assert_eq!(shown["key_id"], json!(key_id));
    assert!(shown["last_used_at"].is_string(), "its use is recorded: {shown}");

    // Alice revokes it: the next request is a 401 that names nothing.
    let path = format!("{base}/service-accounts/{account}/keys/{key_id}");
    assert_eq!(call(&stack, "DELETE", &path, Some(&alice.token), None).await.status, StatusCode::NO_CONTENT);
    let refused = call(&stack, "GET", &format!("{base}/clusters"), Some(&key), None).await;
    assert_problem(&refused, 401, "a revoked key");
    assert_eq!(refused.body["detail"], "the API key is not valid");
    let again = call(&stack, "DELETE", &path, Some(&alice.token), None).await;
    assert_problem(&again, 404, "revoked once");

    // The audit log has the account's and the key's whole life.
    let log = get(&stack, &format!("{base}/events"), &alice).await;
    let actions: Vec<&str> =
        log.body["events"].as_array().expect("events").iter().filter_map(|e| e["action"].as_str()).collect();
    for action in ["service_account_created", "api_key_created", "api_key_revoked"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}

#[tokio::test]
pub(crate) async fn expired_deleted_mistyped_and_foreign_keys_are_refused() {
    let stack = stack().await;
    let (alice, _bob, org) = organization(&stack).await;
    let base = format!("/v1/organizations/{org}");
    let account = service_account(&stack, &alice, &org).await;
    let keys = format!("{base}/service-accounts/{account}/keys");

    // A lifetime past the organization's maximum (90 days unless changed) is refused.
    let long = call(
        &stack,
        "POST",
        &keys,
        Some(&alice.token),
        Some(json!({ "scopes": ["read"], "expires_in_days": 91 })),
    )
    .await;
    assert_problem(&long, 400, "past api_key_max_days");
    for scopes in [json!([]), json!(["fly"]), json!(["change_role"]), json!(["configure_account"])] {
        let refused =
            call(&stack, "POST", &keys, Some(&alice.token), Some(json!({ "scopes": scopes }))).await;
        assert_problem(&refused, 400, &format!("scopes {scopes}"));
    }
    let short = call(
        &stack,
        "POST",
        &keys,
        Some(&alice.token),
        Some(json!({ "scopes": ["read"], "expires_in_days": 1 })),
    )
    .await;
    assert_eq!(short.status, StatusCode::CREATED, "{:?}", short.body);
    let short_id = short.body["key_id"].clone();
    let short = secret(&short.body);
    let lasting = secret(&api_key(&stack, &alice, &org, &account, json!(["read"])).await);
    let members = format!("{base}/members");
    assert_eq!(call(&stack, "GET", &members, Some(&short), None).await.status, StatusCode::OK);

    // A key with one character changed fails its checksum: a 401 with no DynamoDB call at all.
    let mut typo = lasting.clone().into_bytes();
    typo[10] = if typo[10] == b'x' { b'y' } else { b'x' };
    let typo = String::from_utf8(typo).expect("ascii");
    stack.calls.take();
    let refused = call(&stack, "GET", &members, Some(&typo), None).await;
    assert_problem(&refused, 401, "a mistyped key");
    assert_eq!(refused.body["detail"], "the API key is malformed");
    assert_eq!(stack.calls.take(), Vec::<String>::new(), "no table read for a mistyped key");
    // A well-formed key is one read (the organization and the key together), the count of its
    // request against its rate and, at most once a minute, the record of its use.
    call(&stack, "GET", &members, Some(&lasting), None).await;
    assert_eq!(stack.calls.take(), ["BatchGetItem", "UpdateItem", "UpdateItem", "Query"]);
    call(&stack, "GET", &members, Some(&lasting), None).await;
    assert_eq!(stack.calls.take(), ["BatchGetItem", "UpdateItem", "Query"]);

    // Another organization's path: the key is not one of its keys.
    let carol = register(&stack, &email("carol")).await;
    let other = personal_org(&stack, &carol).await;
    let foreign =
        call(&stack, "GET", &format!("/v1/organizations/{other}/members"), Some(&lasting), None).await;
    assert_problem(&foreign, 401, "a key of another organization");

    // Two days on, the one-day key has expired: 401, and the list says so.
    stack.clock.advance(time::Duration::days(2));
    let expired = call(&stack, "GET", &members, Some(&short), None).await;
    assert_problem(&expired, 401, "an expired key");
    assert_eq!(expired.body["detail"], "the API key is not valid");
    let listed = get(&stack, &format!("{base}/service-accounts"), &alice).await;
    let flags: Vec<(bool, bool)> = listed.body["service_accounts"][0]["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| (k["key_id"] == short_id, k["expired"].as_bool().expect("expired")))
        .collect();
    assert_eq!(flags.len(), 2, "{flags:?}");
    assert!(
        flags.iter().all(|(is_short, expired)| is_short == expired),
        "only the short key expired: {flags:?}"
    );
    assert_eq!(call(&stack, "GET", &members, Some(&lasting), None).await.status, StatusCode::OK);

    // Deleting the account takes every key it holds with it.
    let path = format!("{base}/service-accounts/{account}");
    assert_eq!(call(&stack, "DELETE", &path, Some(&alice.token), None).await.status, StatusCode::NO_CONTENT);
    assert_problem(&call(&stack, "GET", &members, Some(&lasting), None).await, 401, "its account deleted");
    let listed = get(&stack, &format!("{base}/service-accounts"), &alice).await;
    assert_eq!(listed.body["service_accounts"], json!([]));
}

#[tokio::test]
async fn of_twelve_parallel_key_creations_exactly_five_succeed() {
    let stack = stack().await;
    let alice = register(&stack, &email("alice")).await;
    let org = personal_org(&stack, &alice).await;
    let account = service_account(&stack, &alice, &org).await;
    let path = format!("/v1/organizations/{org}/service-accounts/{account}/keys");
    let attempts =
        (0..12).map(|_| call(&stack, "POST", &path, Some(&alice.token), Some(json!({ "scopes": ["read"] }))));
    let answers = futures::future::join_all(attempts).await;
    let mut statuses: Vec<u16> = answers.iter().map(|a| a.status.as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 201, 201, 201, 201, 409, 409, 409, 409, 409, 409, 409], "{answers:?}");
    let listed = get(&stack, &format!("/v1/organizations/{org}/service-accounts"), &alice).await;
    assert_eq!(listed.body["service_accounts"][0]["keys"].as_array().map(Vec::len), Some(5));
}

#[tokio::test]
pub(crate) async fn a_key_with_invite_member_invites_in_the_name_of_its_service_account() {
    let stack = stack().await;
    let alice = register(&stack, &email("alice")).await;
    let org = personal_org(&stack, &alice).await;
    let name = format!("onboarding-{}", &uuid::Uuid::new_v4().simple().to_string()[..6]);
    let made =
        post(&stack, &format!("/v1/organizations/{org}/service-accounts"), &alice, json!({ "name": name }))
            .await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    let account = made.body["service_account_id"].as_str().expect("id").to_owned();
    let key = secret(&api_key(&stack, &alice, &org, &account, json!(["invite_member"])).await);
    let invitations = format!("/v1/organizations/{org}/invitations");

    // An admin is more than a member with `invite_member` may invite.
    let admin = call(
        &stack,
        "POST",
        &invitations,
        Some(&key),
        Some(json!({ "email": email("dan"), "role": "admin" })),
    )
    .await;
    assert_problem(&admin, 403, "a key inviting an admin");

    let carol = register(&stack, &email("carol")).await;
    let invited = call(&stack, "POST", &invitations, Some(&key), Some(json!({ "email": carol.email }))).await;
    assert_eq!(invited.status, StatusCode::CREATED, "{:?}", invited.body);
    assert_eq!(invited.body["invited_by_service_account"], name.as_str());
    let mail =
        eventually("the invitation's email", || async { emails_to(&carol.email).await.into_iter().next() })
            .await;
    assert!(mail.subject.contains(&format!("service account \"{name}\"")), "{}", mail.subject);
    assert!(!mail.body.contains("service-accounts.invalid"), "no placeholder address: {}", mail.body);
    let id = invited.body["invitation_id"].as_str().expect("id");
    let accepted = post(&stack, &format!("/v1/invitations/{id}/accept"), &carol, json!({})).await;
    assert_eq!(accepted.status, StatusCode::OK, "{:?}", accepted.body);

    // The invitation stands while its service account exists.
    let erin = register(&stack, &email("erin")).await;
    let pending = call(&stack, "POST", &invitations, Some(&key), Some(json!({ "email": erin.email }))).await;
    assert_eq!(pending.status, StatusCode::CREATED, "{:?}", pending.body);
    let gone = call(
        &stack,
        "DELETE",
        &format!("/v1/organizations/{org}/service-accounts/{account}"),
        Some(&alice.token),
        None,
    )
    .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let id = pending.body["invitation_id"].as_str().expect("id");
    let refused = post(&stack, &format!("/v1/invitations/{id}/accept"), &erin, json!({})).await;
    assert_problem(&refused, 404, "an invitation whose service account is gone");
}

#[tokio::test]
async fn a_key_past_its_rate_waits_for_the_next_minute_and_other_keys_do_not() {
    let mut options = local_stack::StackOptions::for_test();
    options.limits.key_requests_per_minute = 3;
    let stack = stack_with(options).await;
    stack.clock.freeze();
    // A minute that has just begun: the test's requests all fall in it.
    let into = stack.api.now().unix().rem_euclid(60);
    stack.clock.advance(time::Duration::seconds(60 - into));
    let alice = register(&stack, &email("alice")).await;
    let org = personal_org(&stack, &alice).await;
    let account = service_account(&stack, &alice, &org).await;
    let busy = api_key(&stack, &alice, &org, &account, json!(["read"])).await["key"]
        .as_str()
        .expect("key")
        .to_owned();
    let other = api_key(&stack, &alice, &org, &account, json!(["read"])).await["key"]
        .as_str()
        .expect("key")
        .to_owned();
    let members = format!("/v1/organizations/{org}/members");
    let organization = format!("/v1/organizations/{org}");

    // Three requests, through both kinds of route that take keys (a view, and acting_in).
    for path in [&members, &organization, &members] {
        assert_eq!(call(&stack, "GET", path, Some(&busy), None).await.status, StatusCode::OK, "{path}");
    }
    let over = reqwest::Client::new()
        .get(format!("{}{organization}", stack.api_url))
        .bearer_auth(&busy)
        .send()
        .await
        .expect("sent");
    assert_eq!(over.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after = over.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
    assert_eq!(retry_after.as_deref(), Some("60"), "the clock stands at the minute's start");
    assert_eq!(
        over.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    assert_eq!(
        call(&stack, "GET", &members, Some(&other), None).await.status,
        StatusCode::OK,
        "another key has its own"
    );
    assert_eq!(get(&stack, &members, &alice).await.status, StatusCode::OK, "people are not counted");

    // Twelve at once, the next minute: exactly three get through.
    stack.clock.advance(time::Duration::seconds(60));
    let burst =
        futures::future::join_all((0..12).map(|_| call(&stack, "GET", &members, Some(&busy), None))).await;
    let ok = burst.iter().filter(|a| a.status == StatusCode::OK).count();
    let limited = burst.iter().filter(|a| a.status == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((ok, limited), (3, 9), "{:?}", burst.iter().map(|a| a.status).collect::<Vec<_>>());
}

/// Every route that takes a key, called with a fresh key whose scopes allow it: the calls a key's
/// request makes (its read, and the record of its use) are in each function's IAM policy.
#[tokio::test]
pub(crate) async fn every_route_that_takes_a_key_answers_a_key_with_the_scope() {
    let mut options = local_stack::StackOptions::for_test();
    options.limits.max_live_clusters = 100;
    let stack = stack_with(options).await;
    let (alice, _bob, org) = organization(&stack).await;
    let account = service_account(&stack, &alice, &org).await;
    let base = format!("/v1/organizations/{org}");
    let mut covered = std::collections::BTreeSet::new();
    for op in
        orgs::routes::OPERATIONS.iter().filter(|op| op.caller == orgs::contract::openapi::Caller::UserOrKey)
    {
        use orgs::domain::Transition as T;
        let steps: &[T] =
            if op.path.ends_with("/start") { &[T::Running, T::Stop, T::Stopped] } else { &[T::Running] };
        let cluster = cluster_through(&stack, &alice, &org, steps).await;
        let path =
            op.path.replace("{org_id}", &org).replace("{cluster_id}", &cluster).replace("{port}", "8443");
        let made =
            api_key(&stack, &alice, &org, &account, json!(orgs::domain::api_keys::Scopes::all_names())).await;
        let body = match (op.method, op.path.ends_with("/clusters")) {
            ("POST", true) => Some(
                json!({ "name": "by-key", "instance_type": "m5.large", "workers": 0, "user_management": "disabled" }),
            ),
            ("POST", false) if op.path.ends_with("/invitations") => Some(json!({ "email": email("by-key") })),
            ("POST", false) => Some(json!({})),
            _ => None,
        };
        let answer = call(&stack, op.method, &path, Some(&secret(&made)), body).await;
        assert!(answer.status.is_success(), "{} {} with a key: {:?}", op.method, op.path, answer.body);
        let revoke =
            format!("{base}/service-accounts/{account}/keys/{}", made["key_id"].as_str().expect("id"));
        assert_eq!(
            call(&stack, "DELETE", &revoke, Some(&alice.token), None).await.status,
            StatusCode::NO_CONTENT
        );
        covered.insert(op.function);
    }
    assert!(covered.contains("cluster-action") && covered.contains("list-members"), "{covered:?}");
}

/// A key revoked between its request's read and its write: the write's condition that the key is
/// still there refuses it (401), and the cluster does not move. The interleaving is made by hand:
/// the request's read, the revocation, then the request's write.
#[tokio::test]
async fn a_write_by_a_key_revoked_after_its_read_is_refused() {
    let stack = stack().await;
    let (alice, _bob, org) = organization(&stack).await;
    let cluster = running_cluster(&stack, &alice, &org).await;
    let account = service_account(&stack, &alice, &org).await;
    let made = api_key(&stack, &alice, &org, &account, json!(["operate_clusters"])).await;
    let (key_id, key) = orgs::domain::api_keys::ApiKey::presented(&secret(&made)).expect("well-formed");

    // The request reads: the organization and the key, in force.
    let store = &stack.api.store;
    let org_id = orgs::domain::OrgId::parse(&org).expect("org");
    let (organization, acting) = store
        .organization_for_key(&org_id, &key_id, &key, stack.api.now())
        .await
        .expect("read")
        .expect("in force");
    let grant = orgs::domain::authz::may(
        &acting,
        &organization.settings,
        orgs::domain::authz::Action::OperateClusters,
    )
    .expect("its scope");
    let cluster_id = orgs::domain::ClusterId::parse(&cluster).expect("id");
    let read = store.cluster(&org_id, &cluster_id).await.expect("read").expect("cluster");

    // Alice revokes the key.
    let path = format!("/v1/organizations/{org}/service-accounts/{account}/keys/{key_id}");
    assert_eq!(call(&stack, "DELETE", &path, Some(&alice.token), None).await.status, StatusCode::NO_CONTENT);

    // The request writes what it decided.
    let moved = store
        .transition(
            &read,
            orgs::domain::Transition::Stop,
            Some((&acting, &grant)),
            Default::default(),
            stack.api.now(),
        )
        .await;
    assert!(matches!(moved, Err(orgs::domain::DomainError::Unauthorized(_))), "{moved:?}");
    let now = get(&stack, &format!("/v1/organizations/{org}/clusters/{cluster}"), &alice).await;
    assert_eq!(now.body["state"], "running", "the cluster did not move: {:?}", now.body);
}
