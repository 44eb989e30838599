//! A stand-in for EC2's instance metadata service, as much of it as a node's enrollment reads:
//! the IMDSv2 session token (`PUT /latest/api/token`), the instance identity document and its
//! base64 RSA-SHA256 signature. Each node of the local stack is pointed at
//! `{issuer}/imds/{org}/{cluster}/{instance}`; the document is made from the cluster as the
//! control plane recorded it (moto launched the instance, in that account and region) and signed
//! with the stack's dev key, whose certificate is the only one the stack's functions trust
//! (`NODE_IDENTITY_CERTIFICATES`). An instance the cluster does not list has no metadata (404).
//!
//! The dev key and its X.509 certificate are made by the openssl command line once per process,
//! as an operator would make any certificate, so verification is tested against an independent
//! signer of real certificates.

use std::sync::{Arc, OnceLock};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use serde_json::json;

use orgs::domain::{ClusterId, OrgId};
use orgs::store::Store;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The dev signer of instance identity documents.
#[derive(Clone)]
pub struct DevIdentity {
    key: rsa::pkcs1v15::SigningKey<rsa::sha2::Sha256>,
    /// Its self-signed certificate (PEM): what the functions are configured to trust.
    pub certificate: String,
}

impl DevIdentity {
    /// This process's dev identity (made once: openssl takes a moment per key).
    pub fn shared() -> Result<Self, BoxError> {
        static IDENTITY: OnceLock<Result<DevIdentity, String>> = OnceLock::new();
        IDENTITY.get_or_init(|| Self::generate().map_err(|e| e.to_string())).clone().map_err(Into::into)
    }

    fn generate() -> Result<Self, BoxError> {
        let dir = tempdir()?;
        let (key, cert) = (dir.join("key.pem"), dir.join("certificate.pem"));
        let status = std::process::Command::new("openssl")
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj"])
            .arg("/O=orgs local stack/CN=instance identity (dev)")
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .map_err(|e| format!("openssl (Debian's openssl package) makes the dev certificate: {e}"))?;
        if !status.success() {
            return Err(format!("openssl req -x509 failed: {status}").into());
        }
        let private = rsa::RsaPrivateKey::from_pkcs8_pem(&std::fs::read_to_string(&key)?)?;
        let certificate = std::fs::read_to_string(&cert)?;
        let _ = std::fs::remove_dir_all(&dir);
        Ok(Self { key: rsa::pkcs1v15::SigningKey::new(private), certificate })
    }

    /// The document's base64 signature, wrapped at 64 columns as the metadata service wraps it.
    pub fn sign(&self, document: &str) -> String {
        use base64::Engine;
        let signature = self.key.sign(document.as_bytes()).to_vec();
        let encoded = base64::engine::general_purpose::STANDARD.encode(signature);
        encoded
            .as_bytes()
            .chunks(64)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn tempdir() -> Result<std::path::PathBuf, BoxError> {
    let dir = std::env::temp_dir().join(format!("orgs-iid-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// An instance identity document as EC2 writes it (its field order and spacing).
pub fn document(
    account_id: &str,
    region: &str,
    instance_id: &str,
    instance_type: &str,
    pending: &str,
) -> String {
    format!(
        "{{\n  \"accountId\" : \"{account_id}\",\n  \"architecture\" : \"x86_64\",\n  \"availabilityZone\" : \"{region}a\",\n  \"billingProducts\" : null,\n  \"devpayProductCodes\" : null,\n  \"marketplaceProductCodes\" : null,\n  \"imageId\" : \"{image}\",\n  \"instanceId\" : \"{instance_id}\",\n  \"instanceType\" : \"{instance_type}\",\n  \"kernelId\" : null,\n  \"pendingTime\" : \"{pending}\",\n  \"privateIp\" : \"10.0.0.12\",\n  \"ramdiskId\" : null,\n  \"region\" : \"{region}\",\n  \"version\" : \"2017-09-30\"\n}}",
        image = crate::CLUSTER_IMAGE,
    )
}

#[derive(Clone)]
struct Imds {
    store: Store,
    identity: DevIdentity,
}

/// The stand-in's routes, under `/imds/{org}/{cluster}/{instance}`.
pub fn routes<S: Clone + Send + Sync + 'static>(store: Store, identity: DevIdentity) -> axum::Router<S> {
    let state = Arc::new(Imds { store, identity });
    axum::Router::new()
        .route("/imds/{org}/{cluster}/{instance}/latest/api/token", axum::routing::put(token))
        .route(
            "/imds/{org}/{cluster}/{instance}/latest/dynamic/instance-identity/{which}",
            axum::routing::get(identity_document),
        )
        .with_state(state)
}

async fn token(headers: HeaderMap) -> Response {
    // IMDSv2: the token's lifetime must be asked for (1 to 21600 seconds).
    let ttl = headers
        .get("x-aws-ec2-metadata-token-ttl-seconds")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u32>().ok());
    match ttl {
        Some(1..=21600) => uuid::Uuid::new_v4().simple().to_string().into_response(),
        _ => StatusCode::BAD_REQUEST.into_response(),
    }
}

async fn identity_document(
    State(imds): State<Arc<Imds>>,
    Path((org, cluster, instance, which)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Response {
    if !headers.contains_key("x-aws-ec2-metadata-token") {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let (Ok(org), Ok(cluster)) = (OrgId::parse(&org), ClusterId::parse(&cluster)) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let found = match imds.store.cluster(&org, &cluster).await {
        Ok(Some(c)) if c.instances.contains(&instance) => c,
        Ok(_) => return StatusCode::NOT_FOUND.into_response(),
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    let pending = found.running.as_ref().map_or(found.updated_at, |r| r.since).to_rfc3339();
    let doc =
        document(&found.account_id, found.region.as_str(), &instance, found.instance_type.as_str(), &pending);
    match which.as_str() {
        "document" => doc.into_response(),
        "signature" => imds.identity.sign(&doc).into_response(),
        _ => (StatusCode::NOT_FOUND, json!({"error": "not served by the stand-in"}).to_string())
            .into_response(),
    }
}
