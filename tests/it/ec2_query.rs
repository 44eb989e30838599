//! The hand-written EC2 Query client against a server that answers as EC2 does when it fails:
//! what is transient is tried again (bounded), what is a refusal is not, and the request is
//! signed. (The emulator never throttles and never checks a signature.)

use orgs::cloud::CloudError;
use orgs::cloud::ec2::query::{Ec2, Params, items, text};

use crate::support::Receiver;

const THROTTLED: &str = "<Response><Errors><Error><Code>RequestLimitExceeded</Code>\
    <Message>Request limit exceeded.</Message></Error></Errors><RequestID>r</RequestID></Response>";
const REFUSED: &str = "<Response><Errors><Error><Code>InvalidGroup.NotFound</Code>\
    <Message>The security group 'sg-1' does not exist</Message></Error></Errors><RequestID>r</RequestID></Response>";
const STARTED: &str = r#"<StartInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
    <requestId>r</requestId><instancesSet><item><instanceId>i-1</instanceId></item></instancesSet>
    </StartInstancesResponse>"#;

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
    let server = Receiver::start(vec![(503, THROTTLED), (400, THROTTLED), (200, STARTED)]).await;
    let answer = client(&server.url)
        .call("EC2 StartInstances", "StartInstances", &Params::new().list("InstanceId", &["i-1"]))
        .await
        .expect("the third try answers");
    let doc = answer.doc().expect("xml");
    let ids: Vec<_> =
        items(doc.root_element(), "instancesSet").filter_map(|i| text(i, "instanceId")).collect();
    assert_eq!(ids, ["i-1"]);
    let seen = server.received();
    assert_eq!(seen.len(), 3, "two transient failures, then the answer");

    let request = &seen[0];
    assert_eq!(request.line, "POST / HTTP/1.1");
    let authorization = request.headers.get("authorization").expect("signed").to_ascii_lowercase();
    assert!(
        authorization.starts_with("aws4-hmac-sha256 credential=akidexample/")
            && authorization.contains("/eu-west-1/ec2/aws4_request"),
        "signed for EC2 in the region: {authorization}"
    );
    assert_eq!(request.headers.get("x-amz-security-token").map(String::as_str), Some("session"));
    assert_eq!(request.body, "Action=StartInstances&Version=2016-11-15&InstanceId.1=i-1");
    assert!(!format!("{request:?}").contains("not-a-real-secret"), "the secret never travels");
}

#[tokio::test]
async fn throttling_that_outlasts_the_tries_is_unavailable_after_three() {
    let server = Receiver::start(vec![(503, THROTTLED)]).await;
    let failed = client(&server.url).call("EC2 StopInstances", "StopInstances", &Params::new()).await;
    assert!(
        matches!(failed, Err(CloudError::Unavailable { context: "EC2 StopInstances", .. })),
        "{failed:?}"
    );
    assert_eq!(server.received().len(), 3, "bounded");
}

#[tokio::test]
async fn a_refusal_is_not_tried_again_and_keeps_ec2s_code() {
    let server = Receiver::start(vec![(400, REFUSED), (200, STARTED)]).await;
    let failed = client(&server.url)
        .call("EC2 AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupIngress", &Params::new())
        .await;
    match failed {
        Err(CloudError::Refused { code, message }) => {
            assert_eq!(code, "InvalidGroup.NotFound");
            assert_eq!(message, "The security group 'sg-1' does not exist");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(server.received().len(), 1, "asked once");
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
