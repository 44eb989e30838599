//! EC2's Query API, called by hand: a form POST (`Action=...&Version=2016-11-15&...`) signed
//! with SigV4, answered with XML. The fleet makes eleven kinds of call; the SDK's EC2 crate
//! generates all of EC2's several hundred and was a third of a clean build's time here.
//!
//! What the SDK did for us and this module does itself: endpoint (the configuration's
//! `endpoint_url`, else `https://ec2.{region}.amazonaws.com/`), signing, a bounded retry of
//! transient failures (a connection that failed, a timeout, a 5xx, a throttling code) with
//! exponential backoff, and turning EC2's `<Errors>` document into [`CloudError`].

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_smithy_runtime_api::client::identity::Identity;
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::adapters::cloud::CloudError;

/// The Query API version every EC2 call names.
const API_VERSION: &str = "2016-11-15";
/// Tries per call, the first included: the SDK's standard retry mode made three.
const ATTEMPTS: u32 = 3;
/// One attempt, from sending to the last byte of the answer.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
/// An answer larger than this is not one the fleet asked for (a page of DescribeInstances is
/// at most 1,000 instances, well under it).
const MAX_ANSWER_BYTES: usize = 8 * 1024 * 1024;
/// Error codes that say "not now": EC2's throttling and its own trouble.
const TRANSIENT_CODES: &[&str] =
    &["RequestLimitExceeded", "Throttling", "InternalError", "Unavailable", "ServiceUnavailable"];

type HttpClient = Client<HttpsConnector<HttpConnector>, Full<bytes::Bytes>>;

/// The HTTPS client every EC2 call of a process shares: the hyper and rustls stack the SDK
/// already links, built at the first call (loading the root certificates is not free).
fn http_client() -> Result<&'static HttpClient, CloudError> {
    static CLIENT: OnceLock<Result<HttpClient, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            let https = crate::adapters::aws::https_connector()?;
            Ok(Client::builder(TokioExecutor::new()).build(https))
        })
        .as_ref()
        .map_err(|e| CloudError::Unavailable { context: "building the EC2 client", source: e.clone().into() })
}

/// The parameters of one call, in the Query API's flattened form (`InstanceId.1`,
/// `Filter.1.Value.1`, ...).
#[derive(Debug, Default, Clone)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn new() -> Self {
        Self::default()
    }

    /// One parameter.
    pub fn set(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.0.push((name.into(), value.into()));
        self
    }

    /// A list: `{prefix}.1`, `{prefix}.2`, ...
    pub fn list<S: AsRef<str>>(mut self, prefix: &str, values: &[S]) -> Self {
        for (i, value) in values.iter().enumerate() {
            self.0.push((format!("{prefix}.{}", i + 1), value.as_ref().to_owned()));
        }
        self
    }

    /// The request body for `action`.
    fn body(&self, action: &str) -> String {
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("Action", action).append_pair("Version", API_VERSION);
        for (name, value) in &self.0 {
            form.append_pair(name, value);
        }
        form.finish()
    }
}

/// EC2 in one region, as one set of credentials.
pub struct Ec2 {
    endpoint: http::Uri,
    region: String,
    identity: Identity,
}

impl Ec2 {
    /// `endpoint`: the configuration's endpoint URL (the local stack's emulator), or `None` for
    /// the region's public endpoint.
    pub fn new(endpoint: Option<&str>, region: &str, credentials: Credentials) -> Result<Self, CloudError> {
        let endpoint = match endpoint {
            Some(url) => url.to_owned(),
            None => format!("https://ec2.{region}.amazonaws.com/"),
        };
        let endpoint = endpoint.parse().map_err(|e: http::uri::InvalidUri| CloudError::Refused {
            code: "InvalidEndpoint".into(),
            message: format!("the EC2 endpoint is not a URL: {e}"),
        })?;
        Ok(Self { endpoint, region: region.to_owned(), identity: credentials.into() })
    }

    /// EC2 as `sdk` reaches it: its endpoint, region and credentials.
    pub async fn from_config(sdk: &aws_config::SdkConfig) -> Result<Self, CloudError> {
        use aws_credential_types::provider::ProvideCredentials;
        let refused =
            |message: &str| CloudError::Refused { code: "NoCredentials".into(), message: message.into() };
        let provider =
            sdk.credentials_provider().ok_or_else(|| refused("the configuration has no credentials"))?;
        let credentials = provider.provide_credentials().await.map_err(|e| CloudError::Unavailable {
            context: "resolving credentials for EC2",
            source: Box::new(e),
        })?;
        let region = sdk.region().ok_or_else(|| refused("the configuration has no region"))?;
        Self::new(sdk.endpoint_url(), region.as_ref(), credentials)
    }

    /// Calls `action` and answers its XML document's text ([`Answer::doc`] parses it). `context`
    /// names the call in errors (`"EC2 RunInstances"`).
    pub async fn call(
        &self,
        context: &'static str,
        action: &str,
        params: &Params,
    ) -> Result<Answer, CloudError> {
        let body = params.body(action);
        let mut attempt = 1;
        loop {
            match self.attempt(context, &body).await {
                Err(e @ CloudError::Unavailable { .. }) if attempt < ATTEMPTS => {
                    // 100 ms, then 200 ms, each with up to as much again of jitter.
                    let base = 100u64 << (attempt - 1);
                    let jitter = u64::from(uuid::Uuid::new_v4().as_bytes()[0]) * base / 255;
                    tracing::warn!(error = %e, attempt, "{context} failed, trying again");
                    tokio::time::sleep(Duration::from_millis(base + jitter)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn attempt(&self, context: &'static str, body: &str) -> Result<Answer, CloudError> {
        let unavailable =
            |e: Box<dyn std::error::Error + Send + Sync>| CloudError::Unavailable { context, source: e };
        let request = self.signed(body).map_err(unavailable)?;
        let client = http_client()?;
        let exchange = async {
            let response = client.request(request).await.map_err(|e| unavailable(e.into()))?;
            let status = response.status();
            let bytes = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
                .collect()
                .await
                .map_err(unavailable)?
                .to_bytes();
            Ok::<_, CloudError>((status, bytes))
        };
        let (status, bytes) =
            tokio::time::timeout(ATTEMPT_TIMEOUT, exchange).await.map_err(|e| unavailable(e.into()))??;
        let text = String::from_utf8(bytes.to_vec()).map_err(|e| unavailable(e.into()))?;
        if status.is_success() {
            return Ok(Answer(text));
        }
        let (code, message) = error_of(&text).unwrap_or_else(|| (String::new(), String::new()));
        if status.is_server_error() || TRANSIENT_CODES.contains(&code.as_str()) {
            return Err(unavailable(format!("status {status}: {code}: {message}").into()));
        }
        if code.is_empty() {
            return Err(unavailable(format!("status {status} without an EC2 error document").into()));
        }
        Err(CloudError::Refused { code, message })
    }

    fn signed(
        &self,
        body: &str,
    ) -> Result<http::Request<Full<bytes::Bytes>>, Box<dyn std::error::Error + Send + Sync>> {
        use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
        let mut request = http::Request::post(self.endpoint.clone())
            .header(http::header::CONTENT_TYPE, "application/x-www-form-urlencoded; charset=utf-8")
            .body(Full::new(bytes::Bytes::from(body.to_owned())))?;
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&self.identity)
            .region(&self.region)
            .name("ec2")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()?
            .into();
        let uri = self.endpoint.to_string();
        let headers = [("content-type", "application/x-www-form-urlencoded; charset=utf-8")];
        let signable =
            SignableRequest::new("POST", &uri, headers.into_iter(), SignableBody::Bytes(body.as_bytes()))?;
        let (instructions, _signature) = sign(signable, &params)?.into_parts();
        instructions.apply_to_request_http1x(&mut request);
        Ok(request)
    }
}

/// The code and message of EC2's error document:
/// `<Response><Errors><Error><Code>..</Code><Message>..</Message></Error></Errors>...`.
fn error_of(text: &str) -> Option<(String, String)> {
    let doc = roxmltree::Document::parse(text).ok()?;
    let error = doc.descendants().find(|n| n.has_tag_name("Error"))?;
    let field = |name: &str| {
        error.children().find(|n| n.has_tag_name(name)).and_then(|n| n.text()).unwrap_or_default().to_owned()
    };
    Some((field("Code"), field("Message")))
}

/// A successful call's XML.
#[derive(Debug)]
pub struct Answer(String);

impl Answer {
    /// The parsed document. EC2's answers are namespaced
    /// (`xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"`); [`child`] and [`text`] match local
    /// names.
    pub fn doc(&self) -> Result<roxmltree::Document<'_>, CloudError> {
        roxmltree::Document::parse(&self.0)
            .map_err(|e| CloudError::Unavailable { context: "reading an EC2 answer", source: Box::new(e) })
    }
}

/// The first child element of `node` named `name`.
pub fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    node.children().find(|n| n.tag_name().name() == name)
}

/// The `<item>` elements of `node`'s child list `name` (`reservationSet`, `groupSet`, ...).
pub fn items<'a, 'i: 'a>(
    node: roxmltree::Node<'a, 'i>,
    name: &str,
) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> + 'a {
    child(node, name).into_iter().flat_map(|list| list.children().filter(|n| n.tag_name().name() == "item"))
}

/// The text of `node`'s child `name`, if it has one.
pub fn text<'a>(node: roxmltree::Node<'a, '_>, name: &str) -> Option<&'a str> {
    child(node, name).and_then(|n| n.text())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_numbered_from_one_and_values_are_form_encoded() {
        let body = Params::new()
            .set("Filter.1.Name", "tag:orgs:cluster-id")
            .list("InstanceId", &["i-1", "i-2"])
            .set("GroupDescription", "ports of a b&c")
            .body("DescribeInstances");
        assert_eq!(
            body,
            "Action=DescribeInstances&Version=2016-11-15&Filter.1.Name=tag%3Aorgs%3Acluster-id\
             &InstanceId.1=i-1&InstanceId.2=i-2&GroupDescription=ports+of+a+b%26c"
        );
    }

    #[test]
    fn an_error_document_gives_its_code_and_message() {
        let text = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error>\
                    <Code>InvalidInstanceID.NotFound</Code><Message>The instance ID 'i-1' does not exist</Message>\
                    </Error></Errors><RequestID>r</RequestID></Response>";
        assert_eq!(
            error_of(text),
            Some((
                "InvalidInstanceID.NotFound".to_owned(),
                "The instance ID 'i-1' does not exist".to_owned()
            ))
        );
        assert_eq!(error_of("not xml"), None);
    }

    #[test]
    fn namespaced_answers_are_read_by_local_name_and_nested_lists_stay_apart() {
        let answer = Answer(
            r#"<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
                 <reservationSet><item><instancesSet><item>
                   <instanceId>i-1</instanceId>
                   <groupSet><item><groupId>sg-own</groupId></item></groupSet>
                   <networkInterfaceSet><item><groupSet><item><groupId>sg-eni</groupId></item></groupSet></item></networkInterfaceSet>
                 </item></instancesSet></item></reservationSet>
               </DescribeInstancesResponse>"#
                .to_owned(),
        );
        let doc = answer.doc().expect("parsed");
        let instances: Vec<_> =
            items(doc.root_element(), "reservationSet").flat_map(|r| items(r, "instancesSet")).collect();
        assert_eq!(instances.len(), 1);
        assert_eq!(text(instances[0], "instanceId"), Some("i-1"));
        let groups: Vec<_> = items(instances[0], "groupSet").filter_map(|g| text(g, "groupId")).collect();
        assert_eq!(groups, ["sg-own"]);
    }
}
