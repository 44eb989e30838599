//! The hand-written EC2 Query client against a server that answers as EC2 does when it fails:
//! what is transient is tried again (bounded), what is a refusal is not, and the request is
//! signed. (The emulator never throttles and never checks a signature.)

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use orgs::cloud::CloudError;
use orgs::cloud::ec2::query::{Ec2, Params, items, text};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const THROTTLED: &str = "<Response><Errors><Error><Code>RequestLimitExceeded</Code>\
    <Message>Request limit exceeded.</Message></Error></Errors><RequestID>r</RequestID></Response>";
const REFUSED: &str = "<Response><Errors><Error><Code>InvalidGroup.NotFound</Code>\
    <Message>The security group 'sg-1' does not exist</Message></Error></Errors><RequestID>r</RequestID></Response>";
const STARTED: &str = r#"<StartInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
    <requestId>r</requestId><instancesSet><item><instanceId>i-1</instanceId></item></instancesSet>
    </StartInstancesResponse>"#;

/// A server on 127.0.0.1 that answers its n-th request with `answers[n]` (the last one from then
/// on) and keeps every request's head and body.
async fn server(
    answers: Vec<(u16, &'static str)>,
) -> (String, Arc<AtomicUsize>, Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bound");
    let url = format!("http://{}/", listener.local_addr().expect("address"));
    let served = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (count, requests) = (served.clone(), seen.clone());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let n = count.fetch_add(1, Ordering::SeqCst);
            let (status, body) = answers[n.min(answers.len() - 1)];
            let mut request = Vec::new();
            let mut buffer = [0u8; 4096];
            // Read the head, then as much body as Content-Length says.
            loop {
                let read = socket.read(&mut buffer).await.unwrap_or(0);
                if read == 0 {
                    break;
                }
                request.extend_from_slice(&buffer[..read]);
                let text = String::from_utf8_lossy(&request).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().to_owned())
                        })
                        .and_then(|v| v.parse::<usize>().ok())
                        .unwrap_or(0);
                    if request.len() >= end + 4 + length {
                        break;
                    }
                }
            }
            requests.lock().expect("lock").push(String::from_utf8_lossy(&request).to_string());
            let answer = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    (url, served, seen)
}

fn client(url: &str) -> Ec2 {
    let credentials = aws_credential_types::Credentials::new(
        "AKIDEXAMPLE",
        "not-a-real-secret",
        Some("session".into()),
        None,
        "test",
    );
    Ec2::new(Some(url), "eu-west-1", credentials).expect("client")
}

#[tokio::test]
async fn a_throttled_call_is_tried_again_and_then_answers() {
    let (url, served, seen) = server(vec![(503, THROTTLED), (400, THROTTLED), (200, STARTED)]).await;
    let answer = client(&url)
        .call("EC2 StartInstances", "StartInstances", &Params::new().list("InstanceId", &["i-1"]))
        .await
        .expect("the third try answers");
    let doc = answer.doc().expect("xml");
    let ids: Vec<_> =
        items(doc.root_element(), "instancesSet").filter_map(|i| text(i, "instanceId")).collect();
    assert_eq!(ids, ["i-1"]);
    assert_eq!(served.load(Ordering::SeqCst), 3, "two transient failures, then the answer");

    let request = seen.lock().expect("lock")[0].clone();
    let lower = request.to_ascii_lowercase();
    assert!(lower.starts_with("post / http/1.1"), "{request}");
    assert!(
        lower.contains("authorization: aws4-hmac-sha256 credential=akidexample/")
            && lower.contains("/eu-west-1/ec2/aws4_request"),
        "signed for EC2 in the region: {request}"
    );
    assert!(lower.contains("x-amz-security-token: session"), "{request}");
    assert!(request.ends_with("Action=StartInstances&Version=2016-11-15&InstanceId.1=i-1"), "{request}");
    assert!(!request.contains("not-a-real-secret"), "the secret never travels");
}

#[tokio::test]
async fn throttling_that_outlasts_the_tries_is_unavailable_after_three() {
    let (url, served, _) = server(vec![(503, THROTTLED)]).await;
    let failed = client(&url).call("EC2 StopInstances", "StopInstances", &Params::new()).await;
    assert!(
        matches!(failed, Err(CloudError::Unavailable { context: "EC2 StopInstances", .. })),
        "{failed:?}"
    );
    assert_eq!(served.load(Ordering::SeqCst), 3, "bounded");
}

#[tokio::test]
async fn a_refusal_is_not_tried_again_and_keeps_ec2s_code() {
    let (url, served, _) = server(vec![(400, REFUSED), (200, STARTED)]).await;
    let failed = client(&url)
        .call("EC2 AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupIngress", &Params::new())
        .await;
    match failed {
        Err(CloudError::Refused { code, message }) => {
            assert_eq!(code, "InvalidGroup.NotFound");
            assert_eq!(message, "The security group 'sg-1' does not exist");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(served.load(Ordering::SeqCst), 1, "asked once");
}

#[tokio::test]
async fn an_endpoint_that_does_not_answer_is_unavailable_not_refused() {
    // A port nothing listens on: bind one, note it, close it.
    let port =
        std::net::TcpListener::bind("127.0.0.1:0").expect("bound").local_addr().expect("address").port();
    let failed = client(&format!("http://127.0.0.1:{port}/"))
        .call("EC2 StartInstances", "StartInstances", &Params::new())
        .await;
    assert!(matches!(failed, Err(CloudError::Unavailable { .. })), "{failed:?}");
}
