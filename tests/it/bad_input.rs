//! Every client mistake is a 4xx problem+json, and loses nothing.

use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn bad_requests_get_a_4xx_problem_and_change_nothing() {
    let stack = stack().await;
    let alice = register(&stack, &email("alice")).await;
    let org = personal_org(&stack, &alice).await;
    let invitations = format!("/v1/organizations/{org}/invitations");
    let big = format!(r#"{{"email":"bob@example.com","padding":"{}"}}"#, "x".repeat(70 * 1024));
    let token = Some(alice.token.as_str());
    let json_body = |text: &str| Some(("application/json", text.as_bytes().to_vec()));

    // (what, method, path, token, (content type, body), expected status)
    type Case<'a> = (&'a str, &'a str, String, Option<&'a str>, Option<(&'a str, Vec<u8>)>, u16);
    let cases: Vec<Case> = vec![
        ("malformed JSON", "POST", invitations.clone(), token, json_body("{\"email\": "), 400),
        ("JSON that is not an object", "POST", invitations.clone(), token, json_body("[1,2]"), 400),
        ("missing email", "POST", invitations.clone(), token, json_body(r#"{"role":"member"}"#), 400),
        (
            "unknown field",
            "POST",
            invitations.clone(),
            token,
            json_body(r#"{"email":"bob@example.com","admin":true}"#),
            400,
        ),
        ("malformed email", "POST", invitations.clone(), token, json_body(r#"{"email":"bob@"}"#), 400),
        (
            "non-ASCII local part",
            "POST",
            invitations.clone(),
            token,
            json_body(r#"{"email":"jöran@example.com"}"#),
            400,
        ),
        (
            "zero-width space in the address",
            "POST",
            invitations.clone(),
            token,
            json_body("{\"email\":\"bob\u{200B}@example.com\"}"),
            400,
        ),
        (
            "right-to-left override in the address",
            "POST",
            invitations.clone(),
            token,
            json_body("{\"email\":\"\u{202E}moc.elpmaxe@bob\"}"),
            400,
        ),
        ("email of the wrong type", "POST", invitations.clone(), token, json_body(r#"{"email":42}"#), 400),
        (
            "unknown role",
            "POST",
            invitations.clone(),
            token,
            json_body(r#"{"email":"bob@example.com","role":"king"}"#),
            400,
        ),
        (
            "owner is not an invitable role",
            "POST",
            invitations.clone(),
            token,
            json_body(r#"{"email":"bob@example.com","role":"owner"}"#),
            400,
        ),
        ("empty body", "POST", invitations.clone(), token, None, 400),
        ("body over 64 KiB", "POST", invitations.clone(), token, json_body(&big), 413),
        (
            "not JSON",
            "POST",
            invitations.clone(),
            token,
            Some(("text/plain", b"email=bob@example.com".to_vec())),
            415,
        ),
        (
            "binary body",
            "POST",
            invitations.clone(),
            token,
            Some(("application/octet-stream", vec![0xff, 0xfe, 0x00])),
            415,
        ),
        ("unknown route", "GET", "/v1/nothing-here".into(), token, None, 404),
        ("wrong method", "PUT", "/v1/me".into(), token, None, 405),
        ("wrong method on invitations", "PUT", invitations.clone(), token, None, 405),
        ("unknown invitation status", "GET", format!("{invitations}?status=lost"), token, None, 400),
        ("limit out of range", "GET", format!("{invitations}?limit=101"), token, None, 400),
        ("tampered cursor", "GET", format!("{invitations}?cursor=e30"), token, None, 400),
        ("malformed organization id", "GET", "/v1/organizations/not-a-uuid".into(), token, None, 404),
        (
            "malformed invitation id",
            "POST",
            "/v1/invitations/not-a-uuid/accept".into(),
            token,
            json_body("{}"),
            404,
        ),
        (
            "unknown organization",
            "GET",
            format!("/v1/organizations/{}", uuid::Uuid::new_v4()),
            token,
            None,
            404,
        ),
        ("no token", "GET", "/v1/me".into(), None, None, 401),
        (
            "no token on a mutation",
            "POST",
            invitations.clone(),
            None,
            json_body(r#"{"email":"bob@example.com"}"#),
            401,
        ),
    ];
    for (name, method, path, token, body, status) in cases {
        let answer = send(&stack, method, &path, token, body).await;
        assert_problem(&answer, status, name);
    }

    let page = get(&stack, &format!("/v1/organizations/{org}/members"), &alice).await;
    let pending = get(&stack, &format!("/v1/organizations/{org}/invitations?status=pending"), &alice).await;
    assert_eq!(pending.body["invitations"], json!([]), "no bad request left an invitation behind");
    assert_eq!(page.body["members"].as_array().map(Vec::len), Some(1));

    // A good request after all of them is created and mailed, once.
    let bob = email("bob");
    let id = invite(&stack, &alice, &org, &bob).await;
    mailed_once(&stack, &id, &bob).await;
}

#[tokio::test]
async fn a_wrong_method_names_the_allowed_ones() {
    let stack = stack().await;
    let response =
        reqwest::Client::new().patch(format!("{}/v1/me", stack.api_url)).send().await.expect("request");
    assert_eq!(response.status().as_u16(), 405);
    assert_eq!(response.headers()["allow"], "GET");
}

#[tokio::test]
async fn an_internationalized_domain_is_invited_and_mailed_in_its_ascii_form() {
    let stack = stack().await;
    let alice = register(&stack, &email("alice")).await;
    let org = personal_org(&stack, &alice).await;
    let local = email("bob").split('@').next().map(str::to_owned).unwrap_or_default();

    let created = post(
        &stack,
        &format!("/v1/organizations/{org}/invitations"),
        &alice,
        json!({ "email": format!("{local}@BÜCHER.example") }),
    )
    .await;

    assert_eq!(created.status.as_u16(), 201, "{:?}", created.body);
    let stored = format!("{local}@xn--bcher-kva.example");
    assert_eq!(created.body["email"], stored.as_str());
    let id = created.body["invitation_id"].as_str().expect("id");
    mailed_once(&stack, id, &stored).await;
    // The same address in its other spelling is the same invitee.
    let again = post(
        &stack,
        &format!("/v1/organizations/{org}/invitations"),
        &alice,
        json!({ "email": format!("{local}@bücher.example") }),
    )
    .await;
    assert_problem(&again, 409, "the same address spelled in Unicode");
}
