//! The local stack: everything the functions meet in AWS, on this machine. Used by
//! `cargo xtask dev` (through the `local-stack` binary) and by the integration tests, which
//! start one emulator per test process and one [`Stack`] (own table, own router port) per test.
//!
//! - [`emulator`]: moto's server from the pinned virtualenv.
//! - [`table`]: the table, created from the definition the SAM template declares.
//! - [`issuer`]: RS256 keys, a JWKS endpoint and Cognito-shaped tokens.
//! - [`router`]: API Gateway's part: HTTP request to payload-v2 event to the function's handler.
//! - [`pump`]: the stream's two event source mappings: the mailer, and the ordered followers.
//! - [`identity`]: each function signs its AWS calls with its own key, for the IAM check.
//! - [`CallCounter`]: an SDK interceptor counting DynamoDB round trips per operation.

pub mod bench;
pub mod contract;
pub mod dashboard;
pub mod emulator;
pub mod events;
pub mod hosted_ui;
pub mod identity;
pub mod imds;
pub mod issuer;
pub mod node;
pub mod outage;
pub mod pump;
pub mod round_trips;
pub mod router;
pub mod table;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::SdkConfig;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use orgs::Api;
use orgs::auth::Verifier;
use orgs::clock::ShiftedClock;
use orgs::config::AuthConfig;
use orgs::mail::SesMailer;
use orgs::store::Store;
use record_mail_feedback::FeedbackRecorder;
use register_user::Registrar;
use send_invitation_email::InvitationMailer;
use tokio::task::JoinHandle;

pub use issuer::{Issuer, LOCAL_CLIENT_ID, SigningKey};

/// Counts the DynamoDB requests actually sent (retries included), by operation name.
#[derive(Debug, Clone, Default)]
pub struct CallCounter {
    calls: Arc<Mutex<Vec<String>>>,
}

impl CallCounter {
    /// The operations sent since the last call, in order, and resets.
    pub fn take(&self) -> Vec<String> {
        self.calls.lock().map(|mut c| std::mem::take(&mut *c)).unwrap_or_default()
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let name = cfg.load::<Metadata>().map(|m| m.name().to_owned()).unwrap_or_default();
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(name);
        }
        Ok(())
    }
}

/// The local issuer's JWKS endpoint, observable and breakable by tests.
#[derive(Debug, Default)]
pub struct JwksEndpoint {
    pub fetches: AtomicU64,
    /// While set, the endpoint answers 503.
    pub down: AtomicBool,
}

/// How to start a stack.
#[derive(Debug, Clone)]
pub struct StackOptions {
    pub table: String,
    /// `None`: a free port.
    pub api_port: Option<u16>,
    pub issuer_port: Option<u16>,
    /// A key to sign with (the dev stack keeps one across restarts); `None` generates one.
    pub signing_key_pem: Option<String>,
    pub sender: String,
    /// Verify `sender` with SES before starting (a test of failing sends leaves it unverified).
    pub verify_sender: bool,
    pub dashboard_url: String,
    /// Run the stream pump in the background.
    pub pump: bool,
    /// How often each stream consumer polls: tests poll fast and steadily so that they wait
    /// little; the dev stack polls as Lambda does (four times a second) and slows down when
    /// idle, so that a stack nobody uses is quiet.
    pub pump_options: pump::PumpOptions,
    pub jwks_min_refresh: Duration,
    /// The deployment's limits (a test may lower them).
    pub limits: orgs::config::Limits,
    /// Trial credits and rates (a test may make credits run out).
    pub pricing: orgs::config::Pricing,
    /// Run the reconciler on this schedule (the dev stack; a test calls it when it wants it).
    pub reconcile_every: Option<Duration>,
    /// Send due webhook deliveries on this schedule (the dev stack; a test calls the deliverer).
    pub deliver_webhooks_every: Option<Duration>,
    /// Which addresses webhooks may reach. The test stack lets its own receiver on the loopback
    /// through; the dev stack refuses it as a deployment does.
    pub webhook_targets: orgs::domain::webhooks::Targets,
}

impl StackOptions {
    pub fn for_test() -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        Self {
            table: format!("orgs-test-{id}"),
            api_port: None,
            issuer_port: None,
            signing_key_pem: None,
            sender: format!("no-reply@{id}.orgs.test"),
            verify_sender: true,
            dashboard_url: "https://app.orgs.test".into(),
            pump: true,
            pump_options: pump::PumpOptions::default(),
            jwks_min_refresh: Duration::from_secs(10),
            limits: orgs::config::Limits::default(),
            pricing: orgs::config::Pricing::default(),
            reconcile_every: None,
            deliver_webhooks_every: None,
            webhook_targets: orgs::domain::webhooks::Targets::LoopbackToo,
        }
    }
}

/// One running stack: its table, router, issuer and, optionally, stream pump.
pub struct Stack {
    pub api_url: String,
    /// What the router calls: every route's function, as `router::invoke` reaches it.
    pub functions: router::Functions,
    pub issuer: Issuer,
    pub api: Arc<Api>,
    pub mailer: Arc<InvitationMailer>,
    pub registrar: Arc<Registrar>,
    /// The handler SES's bounce and complaint notifications reach through SNS.
    pub feedback: Arc<FeedbackRecorder>,
    /// The customer's cloud as the cloud-account functions meet it (the emulator refuses roles
    /// as AWS does: see `serve.py`).
    pub cloud: Arc<orgs::cloud::StsCloud>,
    /// The service as customers' accounts see it: moto's default account, and the functions that
    /// assume customers' roles (named by their local keys, see [`identity`]).
    pub service: Arc<orgs::domain::ServiceIdentity>,
    /// The emulator's endpoint (the customer's IAM, for [`Stack::customer_trusts`]).
    pub emulator_endpoint: String,
    /// EC2 as the provisioner meets it; `fleet.refuse(...)` is the customer's account saying no.
    pub fleet: Arc<outage::RefusingFleet>,
    /// The stream consumer that carries out clusters' intents in EC2, through the customer's role.
    pub provisioner: Arc<provision_cluster::Provisioner>,
    /// The scheduled job that compares live clusters with EC2.
    pub reconciler: Arc<reconcile_clusters::Reconciler>,
    /// The scheduled job that sends due webhook deliveries.
    pub deliverer: Arc<deliver_webhooks::Deliverer>,
    /// The operators' grant (no HTTP route: tests invoke it as an operator would).
    pub granter: Arc<grant_credits::Granter>,
    /// The stream consumer that copies organization names.
    pub name_sync: Arc<sync_organization_name::NameSync>,
    pub user_sync: Arc<sync_cluster_users::UserSync>,
    /// The table's ordered stream reader: name copy, cluster users and provisioning, in that order.
    pub followers: Arc<dispatch_table_stream::Followers>,
    pub clock: Arc<ShiftedClock>,
    pub calls: CallCounter,
    pub stream_arn: String,
    pub streams: aws_sdk_dynamodbstreams::Client,
    pub options: StackOptions,
    pub pump_stats: Arc<pump::PumpStats>,
    /// The issuer's JWKS endpoint: how often it was fetched, and an outage switch.
    pub jwks: Arc<JwksEndpoint>,
    /// SES as the mailer meets it; `ses.set_down(true)` is an outage.
    pub ses: Arc<outage::OutageMailer>,
    /// The stand-in instance metadata service's signer ([`imds`]), at `{issuer}/imds/...`.
    pub node_identity: imds::DevIdentity,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Stack {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Stack {
    pub async fn start(
        sdk: &SdkConfig,
        options: StackOptions,
    ) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        // Each function signs with its own key; set-up outside any function signs as the tests.
        let sdk = &identity::per_function(sdk);
        let calls = CallCounter::default();
        let dynamo = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(sdk).interceptor(calls.clone()).build(),
        );
        let plain_dynamo = aws_sdk_dynamodb::Client::new(sdk);
        let ses = aws_sdk_ses::Client::new(sdk);
        let streams = aws_sdk_dynamodbstreams::Client::new(sdk);
        let stream_arn = table::create(&plain_dynamo, &options.table).await?;
        if options.verify_sender {
            ses.verify_email_identity().email_address(&options.sender).send().await?;
        }

        let issuer_listener =
            tokio::net::TcpListener::bind(("127.0.0.1", options.issuer_port.unwrap_or(0))).await?;
        let issuer_url = format!("http://{}", issuer_listener.local_addr()?);
        let key = match &options.signing_key_pem {
            Some(pem) => SigningKey::from_pem("local-1", pem)?,
            None => test_key(),
        };
        let issuer = Issuer::new(issuer_url.clone(), key);
        let clock = Arc::new(ShiftedClock::default());
        let auth = AuthConfig {
            issuer: issuer_url.clone(),
            client_id: LOCAL_CLIENT_ID.into(),
            jwks_url: format!("{issuer_url}/.well-known/jwks.json"),
            jwks_min_refresh: options.jwks_min_refresh,
            jwks_max_age: Duration::from_secs(3600),
        };
        // Nodes' identity documents are signed by the stand-in metadata service's dev key.
        let node_identity = imds::DevIdentity::shared()?;
        let api = Arc::new(Api {
            store: Store::new(dynamo, &options.table),
            verifier: Verifier::new(auth).with_clock(clock.clone()),
            clock: clock.clone(),
            limits: options.limits,
            pricing: options.pricing.clone(),
            node_identity: orgs::domain::node_identity::IdentityVerifier::from_pem_bundle(
                &node_identity.certificate,
            )?,
            webhook_targets: options.webhook_targets,
        });
        let cloud = Arc::new(orgs::cloud::StsCloud::new(sdk.clone()));
        let service = Arc::new(service_identity());
        let emulator_endpoint = sdk.endpoint_url().unwrap_or_default().to_owned();
        let api_listener =
            tokio::net::TcpListener::bind(("127.0.0.1", options.api_port.unwrap_or(0))).await?;
        let api_url = format!("http://{}", api_listener.local_addr()?);
        let bootstrap = node_bootstrap(&api_url)?;
        let fleet = Arc::new(outage::RefusingFleet::new(
            orgs::cloud::ec2::Ec2Fleet::new(sdk.clone(), CLUSTER_IMAGE).with_bootstrap(bootstrap),
        ));
        let provisioner = Arc::new(provision_cluster::Provisioner {
            store: Store::new(plain_dynamo.clone(), &options.table),
            fleet: fleet.clone(),
            clock: clock.clone(),
        });
        let reconciler = Arc::new(reconcile_clusters::Reconciler {
            store: Store::new(plain_dynamo.clone(), &options.table),
            fleet: fleet.clone(),
            clock: clock.clone(),
            budget: reconcile_clusters::Budget::default(),
        });
        let deliverer = Arc::new(deliver_webhooks::Deliverer {
            store: Store::new(plain_dynamo.clone(), &options.table),
            clock: clock.clone(),
            resolver: Arc::new(deliver_webhooks::SystemResolver),
            targets: options.webhook_targets,
        });
        let granter = Arc::new(grant_credits::Granter {
            store: Store::new(plain_dynamo.clone(), &options.table),
            clock: clock.clone(),
        });
        let user_sync = Arc::new(sync_cluster_users::UserSync {
            store: Store::new(plain_dynamo.clone(), &options.table),
            clock: clock.clone(),
        });
        let name_sync = Arc::new(sync_organization_name::NameSync {
            store: Store::new(plain_dynamo.clone(), &options.table),
        });
        let followers = Arc::new(dispatch_table_stream::Followers {
            names: name_sync.clone(),
            users: user_sync.clone(),
            provisioner: provisioner.clone(),
            webhooks: Store::new(plain_dynamo.clone(), &options.table),
        });
        let ses = Arc::new(outage::OutageMailer::new(SesMailer::new(ses, &options.sender, None)));
        let mailer = Arc::new(InvitationMailer {
            store: Store::new(plain_dynamo.clone(), &options.table),
            mail: ses.clone(),
            dashboard_url: options.dashboard_url.clone(),
            clock: clock.clone(),
        });
        let feedback = Arc::new(FeedbackRecorder {
            store: Store::new(plain_dynamo.clone(), &options.table),
            clock: clock.clone(),
        });
        let registrar = Arc::new(Registrar {
            store: Store::new(plain_dynamo.clone(), &options.table),
            clock: clock.clone(),
            trial: options.pricing.trial,
        });

        let mut tasks = Vec::new();
        let jwks_issuer = issuer.clone();
        let jwks_endpoint = Arc::new(JwksEndpoint::default());
        let endpoint = jwks_endpoint.clone();
        let jwks = axum::Router::new().route(
            "/.well-known/jwks.json",
            axum::routing::get(move || {
                let (issuer, endpoint) = (jwks_issuer.clone(), endpoint.clone());
                async move {
                    use axum::response::IntoResponse;
                    endpoint.fetches.fetch_add(1, Ordering::SeqCst);
                    if endpoint.down.load(Ordering::SeqCst) {
                        return http::StatusCode::SERVICE_UNAVAILABLE.into_response();
                    }
                    axum::Json(issuer.jwks()).into_response()
                }
            }),
        );
        let jwks =
            jwks.merge(imds::routes(Store::new(plain_dynamo.clone(), &options.table), node_identity.clone()));
        tasks.push(tokio::spawn(async move {
            let _ = axum::serve(issuer_listener, jwks).await;
        }));

        let functions = router::Functions {
            api: api.clone(),
            cloud: cloud.clone(),
            service: service.clone(),
            openapi: Arc::new(get_openapi::Document::build()?),
            cors_origin: options.dashboard_url.clone(),
        };
        let app = router::router(functions.clone());
        tasks.push(tokio::spawn(async move {
            let _ = axum::serve(api_listener, app).await;
        }));

        let pump_stats = Arc::new(pump::PumpStats::default());
        if options.pump {
            tasks.push(tokio::spawn(pump::run(
                plain_dynamo.clone(),
                streams.clone(),
                options.table.clone(),
                pump::mailer_handler(mailer.clone()),
                options.pump_options.clone(),
                pump_stats.clone(),
            )));
            // The table's second reader, with its own positions, as a second event source mapping
            // is: the operations that follow the table in order (see `dispatch-table-stream`).
            tasks.push(tokio::spawn(pump::run(
                plain_dynamo.clone(),
                streams.clone(),
                options.table.clone(),
                pump::followers_handler(followers.clone()),
                options.pump_options.clone(),
                Arc::new(pump::PumpStats::default()),
            )));
        }

        if let Some(every) = options.reconcile_every {
            let reconciler = reconciler.clone();
            tasks.push(tokio::spawn(async move {
                loop {
                    tokio::time::sleep(every).await;
                    let run = identity::as_function(
                        "reconcile-clusters",
                        reconcile_clusters::reconcile(&reconciler),
                    );
                    if let Err(e) = run.await {
                        tracing::warn!(error = %e, "reconciliation failed; next run in a moment");
                    }
                }
            }));
        }

        if let Some(every) = options.deliver_webhooks_every {
            let deliverer = deliverer.clone();
            tasks.push(tokio::spawn(async move {
                loop {
                    tokio::time::sleep(every).await;
                    let run =
                        identity::as_function("deliver-webhooks", deliver_webhooks::deliver(&deliverer));
                    if let Err(e) = run.await {
                        tracing::warn!(error = %e, "webhook deliveries failed; next run in a moment");
                    }
                }
            }));
        }

        Ok(Self {
            functions,
            api_url,
            issuer,
            api,
            mailer,
            registrar,
            feedback,
            cloud,
            service,
            emulator_endpoint,
            fleet,
            provisioner,
            reconciler,
            deliverer,
            granter,
            name_sync,
            user_sync,
            followers,
            clock,
            calls,
            stream_arn,
            streams,
            options,
            pump_stats,
            jwks: jwks_endpoint,
            ses,
            node_identity,
            tasks,
        })
    }

    /// The customer gives `role_arn` the trust policy the service shows `org` (its external id,
    /// the service's roles), as a person pastes it into the role in their account. The emulator
    /// wrapper enforces trust policies on AssumeRole as AWS does; a role trusted by several
    /// organizations (tests share one customer account) keeps a statement for each.
    pub async fn customer_trusts(&self, role_arn: &str, org: &str) -> Result<(), BoxError> {
        let org = orgs::domain::OrgId::parse(org)?;
        let external_id = self.api.store.ensure_external_id(&org).await?;
        let policy = orgs::domain::trust_policy(&self.service, &external_id);
        emulator::trust(&self.emulator_endpoint, role_arn, &policy).await
    }

    /// The instances of `org`'s `cluster` once it runs (head first), read as `token`; gives up
    /// after `within`.
    pub async fn running_instances(
        &self,
        org: &str,
        cluster: &str,
        token: &str,
        within: Duration,
    ) -> Result<Vec<String>, BoxError> {
        let path = format!("/v1/organizations/{org}/clusters/{cluster}");
        let started = std::time::Instant::now();
        loop {
            let (status, body) = self.call("GET", &path, token, None).await?;
            if status.is_success() && body["state"] == "running" {
                let instances: Vec<String> = body["instances"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect())
                    .unwrap_or_default();
                if !instances.is_empty() {
                    return Ok(instances);
                }
            }
            if started.elapsed() > within {
                return Err(format!("cluster {cluster} is not running after {within:?}: {body}").into());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The identity document and signature the stand-in metadata service ([`imds`]) gives
    /// `instance` of `org`'s `cluster`, read as its agent reads them (IMDSv2: a session first).
    pub async fn identity_document(
        &self,
        org: &str,
        cluster: &str,
        instance: &str,
    ) -> Result<(String, String), BoxError> {
        let base = format!("{}/imds/{org}/{cluster}/{instance}/latest", self.issuer.url);
        let http = reqwest::Client::new();
        let session = http
            .put(format!("{base}/api/token"))
            .header("x-aws-ec2-metadata-token-ttl-seconds", "60")
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?;
        let mut read = Vec::new();
        for which in ["document", "signature"] {
            let url = format!("{base}/dynamic/instance-identity/{which}");
            let answer = http.get(url).header("x-aws-ec2-metadata-token", &session).send().await?;
            read.push(answer.error_for_status()?.text().await?);
        }
        let signature = read.pop().unwrap_or_default();
        Ok((read.pop().unwrap_or_default(), signature))
    }

    /// Enrolls `instance` of `org`'s `cluster` as its agent does, with `nonce`: the node's
    /// credential.
    pub async fn enroll_node(
        &self,
        org: &str,
        cluster: &str,
        instance: &str,
        nonce: &str,
    ) -> Result<String, BoxError> {
        let (document, signature) = self.identity_document(org, cluster, instance).await?;
        let body = serde_json::json!({ "org_id": org, "document": document, "signature": signature, "nonce": nonce });
        let enroll = format!("{}/v1/agent/clusters/{cluster}/enroll", self.api_url);
        let answer = reqwest::Client::new().post(enroll).json(&body).send().await?;
        let status = answer.status();
        let text = answer.text().await?;
        if !status.is_success() {
            return Err(format!("enrolling {instance}: {status}: {text}").into());
        }
        let enrolled: serde_json::Value = serde_json::from_str(&text)?;
        enrolled["credential"].as_str().map(str::to_owned).ok_or_else(|| "no credential in the answer".into())
    }

    /// What `cargo xtask event` needs to generate events for this stack.
    /// One request to the stack's API as `token`: the status and the body as JSON (`Null` when
    /// empty or not JSON).
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<serde_json::Value>,
    ) -> Result<(http::StatusCode, serde_json::Value), BoxError> {
        let mut request = reqwest::Client::new()
            .request(reqwest::Method::from_bytes(method.as_bytes())?, format!("{}{path}", self.api_url))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status();
        let text = response.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)))
    }

    pub fn event_context(&self, sdk: &SdkConfig) -> events::EventContext {
        events::EventContext {
            store: self.api.store.clone(),
            dynamodb: aws_sdk_dynamodb::Client::new(sdk),
            streams: self.streams.clone(),
            table: self.options.table.clone(),
            issuer: self.issuer.clone(),
            emulator: self.emulator_endpoint.clone(),
        }
    }

    /// Environment of the functions pointed at this stack, in the form `cargo lambda watch
    /// --env-file` reads.
    pub fn env_file(&self, emulator_endpoint: &str) -> String {
        let roles: Vec<&str> = self.service.assuming_roles.iter().map(|r| r.as_str()).collect();
        let roles = roles.join(",");
        let pairs = [
            ("TABLE_NAME", self.options.table.as_str()),
            ("AWS_ENDPOINT_URL", emulator_endpoint),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("JWT_ISSUER", self.issuer.url.as_str()),
            ("JWT_CLIENT_ID", LOCAL_CLIENT_ID),
            ("SES_SENDER", self.options.sender.as_str()),
            ("DASHBOARD_URL", self.options.dashboard_url.as_str()),
            ("CLUSTER_IMAGE_ID", CLUSTER_IMAGE),
            ("SERVICE_ACCOUNT_ID", self.service.account_id.as_str()),
            ("SERVICE_ROLE_ARNS", roles.as_str()),
        ];
        let mut env: String = pairs.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        if let Ok(boot) = node_bootstrap(&self.api_url) {
            let sha = boot.sha256();
            env.push_str(&format!("AGENT_API_URL={}\n", self.api_url));
            env.push_str(&format!("AGENT_ARTIFACT_URL={LOCAL_ARTIFACTS}/agent/{sha}/orgs-agent\n"));
            env.push_str(&format!("AGENT_SHA256={sha}\n"));
        }
        // A PEM has line breaks: written `\n`, on one line (the function reads them back).
        let pem = self.node_identity.certificate.trim_end().replace('\n', "\\n");
        env.push_str(&format!("NODE_IDENTITY_CERTIFICATES={pem}\n"));
        env
    }
}

/// What the local stack's instances would boot with: this stack's API, and the agent built in
/// this workspace by its checksum. moto boots nothing, so the artifact's address is in the
/// reserved `.invalid` domain; the node agents of the dev stack and the tests run the binary
/// directly (see [`node`]).
pub fn node_bootstrap(api_url: &str) -> Result<orgs::cloud::user_data::NodeBootstrap, BoxError> {
    use sha2::Digest;
    let agent = emulator::workspace_root().join("target/debug/orgs-agent");
    let bytes = std::fs::read(&agent).unwrap_or_default();
    let sha: String = sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    let artifact = format!("{LOCAL_ARTIFACTS}/agent/{sha}/orgs-agent");
    Ok(orgs::cloud::user_data::NodeBootstrap::new(api_url, &artifact, &sha)?)
}

/// Where the local stack says the agent binary is (never fetched: moto boots nothing).
pub const LOCAL_ARTIFACTS: &str = "https://orgs-agent-artifacts.invalid";

/// The machine image clusters boot on the emulator (moto accepts any id).
pub const CLUSTER_IMAGE: &str = "ami-12c6146b";

/// The account moto acts in for the default credentials: the service's own, locally.
pub const MOTO_ACCOUNT: &str = "123456789012";

/// The functions that assume customers' roles: the ones a trust policy names.
pub const ASSUMING_FUNCTIONS: &[&str] = &["configure-account", "dispatch-table-stream", "reconcile-clusters"];

/// The service on the local stack: moto's default account, and a role per function that assumes
/// customers' roles, named as the function signs ([`identity`]), which is how the emulator
/// wrapper tells who is assuming.
pub fn service_identity() -> orgs::domain::ServiceIdentity {
    orgs::domain::ServiceIdentity {
        account_id: MOTO_ACCOUNT.into(),
        assuming_roles: ASSUMING_FUNCTIONS
            .iter()
            .filter_map(|f| {
                orgs::domain::RoleArn::parse(&format!("arn:aws:iam::{MOTO_ACCOUNT}:role/{f}")).ok()
            })
            .collect(),
    }
}

/// One RSA key per process: generating 2048-bit keys is the slowest thing a test would do.
pub fn test_key() -> SigningKey {
    static KEY: std::sync::OnceLock<SigningKey> = std::sync::OnceLock::new();
    KEY.get_or_init(|| SigningKey::generate("local-1")).clone()
}
