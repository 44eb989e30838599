//! What every test needs: the shared emulator, a fresh stack, users with tokens, and an HTTP
//! client that returns status and JSON.

use std::time::Duration;

use aws_lambda_events::cognito::CognitoEventUserPoolsPostConfirmation;
use lambda_runtime::LambdaEvent;
use local_stack::emulator::{Emulator, SentEmail};
use local_stack::{Stack, StackOptions};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::sync::OnceCell;

static EMULATOR: OnceCell<Emulator> = OnceCell::const_new();

/// The process's emulator. Fails the test, saying how to install it, when it cannot start: an
/// integration test never passes without one.
pub async fn emulator() -> &'static Emulator {
    init_logging();
    EMULATOR
        .get_or_init(|| async {
            Emulator::start(None).await.unwrap_or_else(|e| panic!("cannot start the local AWS emulator: {e}"))
        })
        .await
}

fn init_logging() {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt().with_env_filter("info").with_test_writer().try_init();
    }
}

pub async fn stack() -> Stack {
    stack_with(StackOptions::for_test()).await
}

pub async fn stack_with(options: StackOptions) -> Stack {
    let emulator = emulator().await;
    Stack::start(&emulator.sdk_config().await, options)
        .await
        .unwrap_or_else(|e| panic!("cannot start the stack: {e}"))
}

/// A registered person and their token.
#[derive(Debug, Clone)]
pub struct User {
    pub sub: String,
    pub email: String,
    pub token: String,
}

/// The PostConfirmation event Cognito sends once a sign-up is confirmed.
pub fn post_confirmation(sub: &str, email: &str) -> CognitoEventUserPoolsPostConfirmation {
    serde_json::from_value(serde_json::json!({
        "version": "1",
        "triggerSource": "PostConfirmation_ConfirmSignUp",
        "region": "us-east-1",
        "userPoolId": "us-east-1_test",
        "userName": sub,
        "callerContext": { "awsSdkVersion": "aws-sdk-js-3", "clientId": local_stack::LOCAL_CLIENT_ID },
        "request": { "userAttributes": { "sub": sub, "email": email, "email_verified": "true" } },
        "response": {}
    }))
    .unwrap_or_else(|e| panic!("PostConfirmation event: {e}"))
}

/// Signs `email` up through the registration trigger, as Cognito would, and issues a token.
pub async fn register(stack: &Stack, email: &str) -> User {
    let sub = uuid::Uuid::new_v4().to_string();
    let event = LambdaEvent::new(post_confirmation(&sub, email), Default::default());
    local_stack::identity::as_function("register-user", register_user::handle(&stack.registrar, event))
        .await
        .unwrap_or_else(|e| panic!("register-user failed: {e}"));
    User { token: stack.issuer.token(&sub, email), sub, email: email.to_lowercase() }
}

/// An HTTP answer: status, headers and the body parsed as JSON (Null when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Value,
}

pub async fn call(
    stack: &Stack,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Answer {
    send(stack, method, path, token, body.map(|b| ("application/json", b.to_string().into_bytes()))).await
}

pub async fn send(
    stack: &Stack,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<(&str, Vec<u8>)>,
) -> Answer {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let mut request = reqwest::Client::new().request(method, format!("{}{path}", stack.api_url));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some((content_type, bytes)) = body {
        request = request.header("content-type", content_type).body(bytes);
    }
    let response = request.send().await.unwrap_or_else(|e| panic!("{path}: {e}"));
    let status = response.status();
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let text = response.text().await.unwrap_or_default();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Answer { status, content_type, body }
}

pub async fn get(stack: &Stack, path: &str, user: &User) -> Answer {
    call(stack, "GET", path, Some(&user.token), None).await
}

pub async fn post(stack: &Stack, path: &str, user: &User, body: Value) -> Answer {
    call(stack, "POST", path, Some(&user.token), Some(body)).await
}

/// The user's personal organization id, from their dashboard.
pub async fn personal_org(stack: &Stack, user: &User) -> String {
    let me = get(stack, "/v1/me", user).await;
    assert_eq!(me.status, StatusCode::OK, "{:?}", me.body);
    me.body["user"]["personal_org_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no personal org: {}", me.body))
        .to_owned()
}

/// Invites `email` and returns the invitation id.
pub async fn invite(stack: &Stack, inviter: &User, org: &str, email: &str) -> String {
    let answer = post(
        stack,
        &format!("/v1/organizations/{org}/invitations"),
        inviter,
        serde_json::json!({ "email": email }),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
    answer.body["invitation_id"].as_str().unwrap_or_else(|| panic!("no id: {}", answer.body)).to_owned()
}

/// A service account made by `manager` in `org`; its id.
pub async fn service_account(stack: &Stack, manager: &User, org: &str) -> String {
    let name = format!("bot-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let answer = post(
        stack,
        &format!("/v1/organizations/{org}/service-accounts"),
        manager,
        serde_json::json!({ "name": name }),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
    answer.body["service_account_id"].as_str().unwrap_or_else(|| panic!("no id: {}", answer.body)).to_owned()
}

/// A key of `account` with `scopes`, made by `manager`: the answer (`key`, `key_id`, ...).
pub async fn api_key(
    stack: &Stack,
    manager: &User,
    org: &str,
    account: &str,
    scopes: serde_json::Value,
) -> serde_json::Value {
    let answer = post(
        stack,
        &format!("/v1/organizations/{org}/service-accounts/{account}/keys"),
        manager,
        serde_json::json!({ "scopes": scopes }),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
    answer.body
}

/// A webhook endpoint made by `manager` in `org` for `url` and `events`: the answer
/// (`webhook_id`, `secret`, ...).
pub async fn webhook(
    stack: &Stack,
    manager: &User,
    org: &str,
    url: &str,
    events: serde_json::Value,
) -> serde_json::Value {
    let answer = post(
        stack,
        &format!("/v1/organizations/{org}/webhooks"),
        manager,
        serde_json::json!({ "url": url, "events": events }),
    )
    .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{:?}", answer.body);
    answer.body
}

/// One request a [`Receiver`] got.
#[derive(Debug, Clone)]
pub struct Received {
    /// The request line (`POST /hook HTTP/1.1`).
    pub line: String,
    /// Headers by lowercased name.
    pub headers: std::collections::BTreeMap<String, String>,
    pub body: String,
}

/// An HTTP server on 127.0.0.1 that answers its n-th request with `answers[n]` (the last one from
/// then on) and keeps every request: a webhook receiver, or a cloud API that fails on purpose.
pub struct Receiver {
    pub url: String,
    received: std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
}

impl Receiver {
    pub async fn start(answers: Vec<(u16, &'static str)>) -> Self {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bound");
        let url = format!("http://{}/", listener.local_addr().expect("address"));
        let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = received.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut raw = Vec::new();
                let mut buffer = [0u8; 4096];
                // The head, then as much body as Content-Length says.
                let request = loop {
                    let read = socket.read(&mut buffer).await.unwrap_or(0);
                    raw.extend_from_slice(&buffer[..read]);
                    let text = String::from_utf8_lossy(&raw).to_string();
                    let Some(end) = text.find("\r\n\r\n") else {
                        if read == 0 {
                            break None;
                        }
                        continue;
                    };
                    let mut lines = text[..end].split("\r\n");
                    let line = lines.next().unwrap_or_default().to_owned();
                    let headers: std::collections::BTreeMap<String, String> = lines
                        .filter_map(|l| l.split_once(':'))
                        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
                        .collect();
                    let length =
                        headers.get("content-length").and_then(|v| v.parse::<usize>().ok()).unwrap_or(0);
                    if raw.len() >= end + 4 + length || read == 0 {
                        let body = String::from_utf8_lossy(&raw[end + 4..]).to_string();
                        break Some(Received { line, headers, body });
                    }
                };
                let Some(request) = request else { continue };
                let n = {
                    let mut all = kept.lock().expect("lock");
                    all.push(request);
                    all.len() - 1
                };
                let (status, body) = answers[n.min(answers.len() - 1)];
                let answer = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            }
        });
        Self { url, received }
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }
}

/// Waits (polling, bounded) until `probe` yields something.
pub async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..200 {
        if let Some(value) = probe().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

/// The emails SES accepted for `to`.
pub async fn emails_to(to: &str) -> Vec<SentEmail> {
    let all = emulator().await.sent_emails().await.unwrap_or_else(|e| panic!("reading the SES outbox: {e}"));
    all.into_iter().filter(|m| m.destinations.to.iter().any(|t| t == to)).collect()
}

/// Asserts an RFC 9457 problem with `status`.
pub fn assert_problem(answer: &Answer, status: u16, context: &str) {
    assert_eq!(answer.status.as_u16(), status, "{context}: {:?}", answer.body);
    assert_eq!(answer.content_type, "application/problem+json", "{context}: content type");
    assert_eq!(answer.body["status"], status, "{context}: {:?}", answer.body);
    assert!(
        answer.body["type"].as_str().is_some_and(|t| t.starts_with("/problems/")),
        "{context}: {:?}",
        answer.body
    );
    assert!(answer.body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{context}: {:?}", answer.body);
}

/// A unique email address for one test.
pub fn email(name: &str) -> String {
    format!("{name}-{}@example.com", &uuid::Uuid::new_v4().simple().to_string()[..8])
}

/// An invitation as stored, read strongly consistent.
pub async fn invitation_of(stack: &Stack, invitation: &str) -> orgs::domain::Invitation {
    let id = orgs::domain::InvitationId::parse(invitation).expect("invitation id");
    stack.api.store.invitation(&id).await.expect("read invitation").expect("invitation exists")
}

/// The recorded delivery of an invitation.
pub async fn delivery_of(stack: &Stack, invitation: &str) -> Option<orgs::domain::Delivery> {
    invitation_of(stack, invitation).await.delivery
}

/// SES comes back: the stack's sender is verified.
pub async fn verify_sender(stack: &Stack) {
    let ses = aws_sdk_ses::Client::new(&emulator().await.sdk_config().await);
    ses.verify_email_identity().email_address(&stack.options.sender).send().await.expect("verify sender");
}

/// Waits until the pump has mailed `invitation`, then asserts `to` got exactly one email.
pub async fn mailed_once(stack: &Stack, invitation: &str, to: &str) {
    eventually(&format!("the email to {to}"), || delivery_of(stack, invitation)).await;
    let sent = emails_to(to).await;
    assert_eq!(sent.len(), 1, "{to} got {} emails", sent.len());
}

/// A fresh OpenSSH Ed25519 public key line.
pub fn ssh_key_line(comment: &str) -> String {
    local_stack::events::fresh_ssh_key(comment)
}
