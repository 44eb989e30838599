//! DynamoDB round trips per operation, counted by the stack's SDK interceptor while each
//! operation goes through the API as a client calls it. The integration test holds the counts to
//! the README's table; `cargo xtask bench` prints them.

use lambda_runtime::LambdaEvent;
use serde_json::{Value, json};

use crate::Stack;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn register(stack: &Stack, name: &str) -> Result<(String, String), BoxError> {
    let sub = uuid::Uuid::new_v4().to_string();
    let email = format!("{name}-{}@example.com", &sub[..8]);
    let event = serde_json::from_value(crate::events::post_confirmation(&sub, &email))?;
    crate::identity::as_function(
        "register-user",
        register_user::handle(&stack.registrar, LambdaEvent::new(event, Default::default())),
    )
    .await
    .map_err(|e| format!("register-user: {e}"))?;
    Ok((stack.issuer.token(&sub, &email), email))
}

async fn call(
    stack: &Stack,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Result<Value, BoxError> {
    Ok(stack.call(method, path, token, body).await?.1)
}

/// Each operation and the DynamoDB calls it made, in order.
pub async fn measure(stack: &Stack) -> Result<Vec<(&'static str, Vec<String>)>, BoxError> {
    let (alice, _) = register(stack, "alice").await?;
    let (bob, bob_email) = register(stack, "bob").await?;
    let (carol, carol_email) = register(stack, "carol").await?;
    let me = call(stack, "GET", "/v1/me", &alice, None).await?;
    let org = me["user"]["personal_org_id"].as_str().ok_or("no organization")?.to_owned();
    let alice_id = me["user"]["user_id"].as_str().ok_or("no user")?.to_owned();
    let bob_me = call(stack, "GET", "/v1/me", &bob, None).await?;
    let bob_id = bob_me["user"]["user_id"].as_str().ok_or("no user")?.to_owned();
    let invitations = format!("/v1/organizations/{org}/invitations");
    let mut measured = Vec::new();
    stack.calls.take();

    let invited = call(stack, "POST", &invitations, &alice, Some(json!({ "email": bob_email }))).await?;
    measured.push(("invite", stack.calls.take()));
    let bob_invitation = invited["invitation_id"].as_str().ok_or("no invitation")?.to_owned();
    let invited = call(stack, "POST", &invitations, &alice, Some(json!({ "email": carol_email }))).await?;
    let carol_invitation = invited["invitation_id"].as_str().ok_or("no invitation")?.to_owned();
    stack.calls.take();

    call(stack, "POST", &format!("/v1/invitations/{bob_invitation}/accept"), &bob, Some(json!({}))).await?;
    measured.push(("accept", stack.calls.take()));
    let member = format!("/v1/organizations/{org}/members/{bob_id}");
    call(stack, "PATCH", &member, &alice, Some(json!({ "role": "admin" }))).await?;
    measured.push(("promote", stack.calls.take()));
    call(stack, "PATCH", &member, &alice, Some(json!({ "role": "member" }))).await?;
    measured.push(("demote", stack.calls.take()));
    let ownership = format!("/v1/organizations/{org}/ownership");
    call(stack, "POST", &ownership, &alice, Some(json!({ "user_id": bob_id }))).await?;
    measured.push(("transfer ownership", stack.calls.take()));
    call(stack, "POST", &ownership, &bob, Some(json!({ "user_id": alice_id }))).await?;
    stack.calls.take();
    call(stack, "POST", &format!("/v1/invitations/{carol_invitation}/decline"), &carol, Some(json!({})))
        .await?;
    measured.push(("decline", stack.calls.take()));
    let invited =
        call(stack, "POST", &invitations, &alice, Some(json!({ "email": "dan@example.com" }))).await?;
    let dan_invitation = invited["invitation_id"].as_str().ok_or("no invitation")?.to_owned();
    stack.calls.take();
    call(stack, "POST", &format!("{invitations}/{dan_invitation}/resend"), &alice, Some(json!({}))).await?;
    measured.push(("resend", stack.calls.take()));
    call(stack, "DELETE", &format!("{invitations}/{dan_invitation}"), &alice, None).await?;
    measured.push(("revoke", stack.calls.take()));
    call(stack, "GET", &format!("{invitations}?status=revoked"), &alice, None).await?;
    measured.push(("invitations page", stack.calls.take()));
    let settings = json!({
        "members_can_invite": true,
        "members_can_manage_clusters": true,
        "members_can_open_ports": false,
        "invitation_ttl_days": 7,
    });
    call(stack, "PUT", &format!("/v1/organizations/{org}/permissions"), &alice, Some(settings)).await?;
    measured.push(("update permissions", stack.calls.take()));
    call(stack, "PATCH", &format!("/v1/organizations/{org}"), &alice, Some(json!({ "name": "Data team" })))
        .await?;
    measured.push(("rename", stack.calls.take()));
    call(stack, "POST", "/v1/organizations", &alice, Some(json!({ "name": "Second team" }))).await?;
    measured.push(("create organization", stack.calls.take()));
    call(stack, "GET", &format!("/v1/organizations/{org}/events"), &alice, None).await?;
    measured.push(("events page", stack.calls.take()));
    let account = json!({ "provider": "aws", "role_arn": "arn:aws:iam::111122223333:role/orgs", "region": "eu-west-1" });
    call(stack, "GET", &format!("/v1/organizations/{org}/cloud-account"), &alice, None).await?;
    stack.customer_trusts("arn:aws:iam::111122223333:role/orgs", &org).await?;
    stack.calls.take();
    call(stack, "PUT", &format!("/v1/organizations/{org}/cloud-account"), &alice, Some(account)).await?;
    measured.push(("configure account", stack.calls.take()));
    let cluster = json!({ "name": "measured", "instance_type": "m5.large", "workers": 0, "user_management": "disabled" });
    let created =
        call(stack, "POST", &format!("/v1/organizations/{org}/clusters"), &alice, Some(cluster)).await?;
    measured.push(("create cluster", stack.calls.take()));
    let id = created["cluster_id"].as_str().ok_or("no cluster")?.to_owned();
    call(stack, "POST", &format!("/v1/organizations/{org}/clusters/{id}/terminate"), &alice, Some(json!({})))
        .await?;
    measured.push(("cluster action", stack.calls.take()));
    call(stack, "GET", &format!("/v1/organizations/{org}/clusters"), &alice, None).await?;
    measured.push(("clusters page", stack.calls.take()));
    let accounts = format!("/v1/organizations/{org}/service-accounts");
    let made = call(stack, "POST", &accounts, &alice, Some(json!({ "name": "nightly" }))).await?;
    measured.push(("create service account", stack.calls.take()));
    let account = made["service_account_id"].as_str().ok_or("no service account")?.to_owned();
    let keys = format!("{accounts}/{account}/keys");
    let made = call(stack, "POST", &keys, &alice, Some(json!({ "scopes": ["read"] }))).await?;
    measured.push(("create API key", stack.calls.take()));
    let key = made["key"].as_str().ok_or("no key")?.to_owned();
    call(stack, "GET", &format!("/v1/organizations/{org}/clusters"), &key, None).await?;
    measured.push(("clusters page by key, its first use this minute", stack.calls.take()));
    call(stack, "GET", &format!("/v1/organizations/{org}/clusters"), &key, None).await?;
    measured.push(("clusters page by key", stack.calls.take()));
    call(stack, "GET", &format!("/v1/organizations/{org}/usage"), &alice, None).await?;
    measured.push(("usage report", stack.calls.take()));
    call(stack, "DELETE", &format!("/v1/organizations/{org}/members/{bob_id}"), &alice, None).await?;
    measured.push(("remove member", stack.calls.take()));
    call(stack, "GET", &format!("/v1/organizations/{org}"), &alice, None).await?;
    measured.push(("get organization", stack.calls.take()));
    call(stack, "GET", &format!("/v1/organizations/{org}/members"), &alice, None).await?;
    measured.push(("members page", stack.calls.take()));
    call(stack, "GET", "/v1/me", &alice, None).await?;
    measured.push(("dashboard", stack.calls.take()));
    call(stack, "POST", &invitations, &alice, Some(json!({ "email": "bad" }))).await?;
    measured.push(("rejected invitation", stack.calls.take()));
    Ok(measured)
}
