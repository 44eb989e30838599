//! The local AWS emulator: moto's server from the project's pinned virtualenv, started on a port
//! of ours and stopped when dropped.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;

/// How to make the emulator available, for error messages.
pub const HOW_TO_INSTALL: &str = "the local AWS emulator (moto) is not installed: run `cargo xtask test` (or `cargo xtask dev`), which creates .venv with the pinned moto[server]";

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("{HOW_TO_INSTALL} (looked for {0})")]
    NotInstalled(PathBuf),
    #[error("could not start the emulator: {0}")]
    Spawn(#[from] std::io::Error),
    #[error("the emulator did not answer on {0} within 30 s; is the port taken? (see its output above)")]
    NoAnswer(String),
}

/// The workspace root, from this crate's manifest directory.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().map(PathBuf::from).unwrap_or_default()
}

/// The virtualenv's Python: `ORGS_VENV` if set, else `<workspace>/.venv`.
pub fn venv_python() -> PathBuf {
    let venv =
        std::env::var_os("ORGS_VENV").map(PathBuf::from).unwrap_or_else(|| workspace_root().join(".venv"));
    venv.join("bin").join("python")
}

/// A free port on 127.0.0.1, as the OS hands it out.
pub fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A running moto server, stopped when dropped (and by itself when its parent process exits).
pub struct Emulator {
    pub endpoint: String,
    child: Child,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Emulator {
    /// Starts moto on `port` (a free one when `None`) and waits until it answers.
    pub async fn start(port: Option<u16>) -> Result<Self, EmulatorError> {
        let python = venv_python();
        if !python.exists() {
            return Err(EmulatorError::NotInstalled(python));
        }
        let port = match port {
            Some(p) => p,
            None => free_port()?,
        };
        let script = workspace_root().join("local").join("emulator").join("serve.py");
        let child = Command::new(&python)
            .arg(script)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(if std::env::var_os("TEST_LOG").is_some() { Stdio::inherit() } else { Stdio::null() })
            .spawn()?;
        let endpoint = format!("http://127.0.0.1:{port}");
        let mut emulator = Self { endpoint, child };
        let http = reqwest::Client::new();
        for _ in 0..300 {
            if let Ok(Some(_)) = emulator.child.try_wait() {
                return Err(EmulatorError::NoAnswer(emulator.endpoint.clone()));
            }
            if http.get(format!("{}/moto-api/", emulator.endpoint)).send().await.is_ok() {
                return Ok(emulator);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(EmulatorError::NoAnswer(emulator.endpoint.clone()))
    }

    /// SDK configuration that talks to this emulator with throwaway credentials.
    pub async fn sdk_config(&self) -> SdkConfig {
        sdk_config_for(&self.endpoint).await
    }

    /// SDK configuration of the customer's own administrator: it may assume any existing role in
    /// their account, to look at it as it is (see `serve.py`).
    pub async fn customer_sdk_config(&self) -> SdkConfig {
        sdk_config_for(&self.endpoint)
            .await
            .to_builder()
            .credentials_provider(aws_sdk_dynamodb::config::SharedCredentialsProvider::new(Credentials::new(
                "customer",
                "customer",
                None,
                None,
                "local-customer",
            )))
            .build()
    }

    /// Every AWS call a function made so far (the wrapper's record, oldest first).
    pub async fn calls(&self) -> Result<Vec<RecordedCall>, reqwest::Error> {
        #[derive(serde::Deserialize)]
        struct Calls {
            calls: Vec<RecordedCall>,
        }
        let calls: Calls = reqwest::Client::new()
            .get(format!("{}/_local/calls", self.endpoint))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        Ok(calls.calls)
    }

    /// The emails SES has accepted so far, from moto's introspection API.
    pub async fn sent_emails(&self) -> Result<Vec<SentEmail>, reqwest::Error> {
        sent_emails(&reqwest::Client::new(), &self.endpoint).await
    }
}

/// SDK configuration for an emulator at `endpoint`.
pub async fn sdk_config_for(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("test", "test", None, None, "local-emulator"))
        .load()
        .await
}

/// Gives `role_arn` (created if missing, in the account the ARN names) the statements of
/// `policy` as its trust policy, beside those it has: the customer's side of connecting an account.
pub async fn trust(endpoint: &str, role_arn: &str, policy: &serde_json::Value) -> Result<(), BoxError> {
    reqwest::Client::new()
        .post(format!("{endpoint}/_local/trust"))
        .json(&serde_json::json!({ "role_arn": role_arn, "policy": policy }))
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// One AWS call a function made, as the emulator wrapper recorded it (`serve.py`).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct RecordedCall {
    /// The access key id it was signed with: the function's name on the local stack.
    pub key: String,
    /// The signing name: `dynamodb`, `sts`, `ses`, `ec2`.
    pub service: String,
    pub action: String,
    /// What IAM decides on: table, index, batch tables, transaction actions, role ARN, sender.
    #[serde(default)]
    pub params: serde_json::Map<String, serde_json::Value>,
}

/// One email in the emulator's SES outbox.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct SentEmail {
    pub id: String,
    pub source: String,
    pub subject: String,
    pub body: String,
    pub destinations: Destinations,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct Destinations {
    #[serde(rename = "ToAddresses", default)]
    pub to: Vec<String>,
}

pub async fn sent_emails(http: &reqwest::Client, endpoint: &str) -> Result<Vec<SentEmail>, reqwest::Error> {
    #[derive(serde::Deserialize)]
    struct Data {
        #[serde(default)]
        ses: Ses,
    }
    #[derive(Default, serde::Deserialize)]
    struct Ses {
        #[serde(rename = "Message", default)]
        messages: Vec<SentEmail>,
    }
    let data: Data =
        http.get(format!("{endpoint}/moto-api/data.json")).send().await?.error_for_status()?.json().await?;
    Ok(data.ses.messages)
}
