//! How a node of a managed cluster proves which instance it is, with no secret ever handed to it:
//! EC2's instance identity document, signed by AWS (the instance reads it and its signature from
//! the instance metadata service, `/latest/dynamic/instance-identity/{document,signature}`),
//! verified against AWS's published RSA certificates, the way HashiCorp Vault's AWS auth method
//! does. The document names the instance, its account, its region and when it was last started
//! (`pendingTime`); the control plane checks them against the cluster it recorded.
//!
//! A document never changes while the instance runs, and any process on the instance may read it,
//! so it cannot be the credential alone. As in Vault, the first enrollment of an instance sets a
//! nonce (a random value the node keeps in a root-only file) and every later enrollment must
//! present it ("trust on first use"): a copied document without the node's nonce is refused. The
//! agent enrolls at boot, before any member account exists on the node. What enrollment returns is
//! a short-lived node credential ([`NodeCredential`], one hour), renewed by enrolling again.

use base64::Engine;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::sha2::Sha256;
use rsa::signature::Verifier as _;
use serde::Deserialize;

use super::{OrgId, Timestamp};

/// How long a node credential lasts; the agent enrolls again before it ends.
pub const CREDENTIAL_SECONDS: i64 = 3600;
const CREDENTIAL_PREFIX: &str = "ocn_";

/// What the control plane reads of an instance identity document (AWS adds more fields).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityDocument {
    pub instance_id: String,
    pub account_id: String,
    pub region: String,
    /// When the instance was last launched or started: a stop and start moves it on.
    #[serde(with = "time::serde::rfc3339")]
    pub pending_time: time::OffsetDateTime,
}

impl IdentityDocument {
    pub fn pending(&self) -> Timestamp {
        Timestamp::from_datetime(self.pending_time)
    }
}

/// Why an enrollment is refused. Logged for the operator; the node is told only 401.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("no instance identity certificate is configured (NODE_IDENTITY_CERTIFICATES)")]
    NoCertificates,
    #[error("the signature is not base64")]
    SignatureEncoding,
    #[error("the signature matches no configured certificate")]
    BadSignature,
    #[error("the document is not an instance identity document: {0}")]
    Document(String),
    #[error("the instance {0} is not one of this cluster's running instances")]
    NotThisCluster(String),
    #[error("the cluster is terminated or unknown")]
    NoCluster,
    #[error("the instance was enrolled before with another nonce")]
    NonceMismatch,
    #[error("the document is older than the one the instance enrolled with")]
    StaleDocument,
}

/// The certificates whose keys may sign identity documents: AWS's RSA certificates for the regions
/// clusters run in (the ones for the base64 `signature`), or the local stack's dev certificate.
#[derive(Clone, Default)]
pub struct IdentityVerifier {
    keys: Vec<VerifyingKey<Sha256>>,
}

impl std::fmt::Debug for IdentityVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IdentityVerifier({} keys)", self.keys.len())
    }
}

impl IdentityVerifier {
    /// Every `CERTIFICATE` block of a PEM bundle; text outside the blocks (region names, comments)
    /// is ignored. An empty bundle verifies nothing.
    pub fn from_pem_bundle(bundle: &str) -> Result<Self, String> {
        use x509_cert::der::{DecodePem, Encode};
        const END: &str = "-----END CERTIFICATE-----";
        let mut keys = Vec::new();
        let mut rest = bundle;
        while let Some(start) = rest.find("-----BEGIN CERTIFICATE-----") {
            let end = rest[start..].find(END).ok_or("a certificate has no END line")? + start + END.len();
            let cert = x509_cert::Certificate::from_pem(&rest.as_bytes()[start..end])
                .map_err(|e| format!("certificate {}: {e}", keys.len() + 1))?;
            let spki = cert
                .tbs_certificate
                .subject_public_key_info
                .to_der()
                .map_err(|e| format!("certificate {}: {e}", keys.len() + 1))?;
            let key = <rsa::RsaPublicKey as rsa::pkcs8::DecodePublicKey>::from_public_key_der(&spki)
                .map_err(|e| format!("certificate {}: not an RSA key: {e}", keys.len() + 1))?;
            keys.push(VerifyingKey::<Sha256>::new(key));
            rest = &rest[end..];
        }
        Ok(Self { keys })
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The document, if `signature` (base64, as the metadata service gives it, line breaks and
    /// all) is an RSA-SHA256 (PKCS #1 v1.5) signature of its exact bytes by one of the keys.
    pub fn verify(&self, document: &str, signature: &str) -> Result<IdentityDocument, Refusal> {
        if self.keys.is_empty() {
            return Err(Refusal::NoCertificates);
        }
        let compact: String = signature.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(compact)
            .map_err(|_| Refusal::SignatureEncoding)?;
        let signature = Signature::try_from(bytes.as_slice()).map_err(|_| Refusal::SignatureEncoding)?;
        if !self.keys.iter().any(|k| k.verify(document.as_bytes(), &signature).is_ok()) {
            return Err(Refusal::BadSignature);
        }
        serde_json::from_str(document).map_err(|e| Refusal::Document(e.to_string()))
    }
}

/// A node's nonce as it arrives: 32 to 128 characters of base64url (the agent makes 43, from 256
/// random bits). Only its SHA-256 is stored.
pub fn check_nonce(nonce: &str) -> Result<(), super::DomainError> {
    let ok = (32..=128).contains(&nonce.len())
        && nonce.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(super::DomainError::Invalid("'nonce' must be 32 to 128 characters of base64url".into()))
    }
}

/// A node's bearer credential: `ocn_{org}_{instance}_{secret}`. The organization and instance let
/// one read find the node and its cluster; the secret is 256 random bits, stored as its SHA-256.
pub struct NodeCredential(String);

impl NodeCredential {
    pub fn generate(org: &OrgId, instance_id: &str) -> Self {
        let mut bytes = [0u8; 32];
        bytes[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        bytes[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        Self(format!("{CREDENTIAL_PREFIX}{org}_{instance_id}_{secret}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> String {
        super::cluster_users::hash(&self.0)
    }

    /// The organization and instance a presented credential names, if it has the form.
    pub fn parse(presented: &str) -> Option<(OrgId, String)> {
        let rest = presented.strip_prefix(CREDENTIAL_PREFIX)?;
        let mut parts = rest.splitn(3, '_');
        let org = OrgId::parse(parts.next()?).ok()?;
        let instance = parts.next()?;
        let secret = parts.next()?;
        (is_instance_id(instance) && secret.len() >= 43).then(|| (org, instance.to_owned()))
    }
}

/// An EC2 instance id: `i-` and 8 or 17 hex digits.
pub fn is_instance_id(id: &str) -> bool {
    id.strip_prefix("i-")
        .is_some_and(|hex| matches!(hex.len(), 8 | 17) && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    // A certificate, document and signature made with openssl (`openssl req -x509 -newkey
    // rsa:2048`, `openssl dgst -sha256 -sign`): our verification against an independent signer.
    const CERT: &str = include_str!("../../testdata/identity/dev-certificate.pem");
    const OTHER_CERT: &str = include_str!("../../testdata/identity/other-certificate.pem");
    const DOCUMENT: &str = include_str!("../../testdata/identity/document.json");
    const SIGNATURE: &str = include_str!("../../testdata/identity/signature.b64");

    #[test]
    fn an_openssl_signature_of_the_document_verifies_against_its_certificate_only() {
        let verifier =
            IdentityVerifier::from_pem_bundle(&format!("us-east-1\n{OTHER_CERT}\n{CERT}")).unwrap();
        let doc = verifier.verify(DOCUMENT, SIGNATURE).expect("signed by the dev key");
        assert_eq!(doc.instance_id, "i-0123456789abcdef0");
        assert_eq!(doc.account_id, "123456789012");
        assert_eq!(doc.region, "us-east-1");
        assert_eq!(doc.pending().to_rfc3339(), "2026-12-03T10:00:00Z");

        let other = IdentityVerifier::from_pem_bundle(OTHER_CERT).unwrap();
        assert_eq!(other.verify(DOCUMENT, SIGNATURE), Err(Refusal::BadSignature));
        // One byte of the document changed: the signature no longer holds.
        let forged = DOCUMENT.replace("i-0123456789abcdef0", "i-0123456789abcdef1");
        assert_eq!(verifier.verify(&forged, SIGNATURE), Err(Refusal::BadSignature));
        assert_eq!(verifier.verify(DOCUMENT, "not base64!"), Err(Refusal::SignatureEncoding));
        assert_eq!(IdentityVerifier::default().verify(DOCUMENT, SIGNATURE), Err(Refusal::NoCertificates));
        assert!(
            IdentityVerifier::from_pem_bundle("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----")
                .is_err()
        );
    }

    #[test]
    fn credentials_name_their_organization_and_instance() {
        let org = OrgId::new();
        let credential = NodeCredential::generate(&org, "i-0123456789abcdef0");
        assert_eq!(NodeCredential::parse(credential.as_str()), Some((org, "i-0123456789abcdef0".to_owned())));
        assert!(super::super::cluster_users::matches(credential.as_str(), &credential.hash()));
        assert_eq!(NodeCredential::parse("ocn_nope"), None);
        assert_eq!(NodeCredential::parse(&format!("ocn_{org}_i-zz_{}", "a".repeat(43))), None);
        assert_eq!(NodeCredential::parse(&format!("ocn_{org}_i-0123456789abcdef0_short")), None);
        assert!(is_instance_id("i-1234abcd") && !is_instance_id("i-123") && !is_instance_id("x-1234abcd"));
        assert!(check_nonce(&"a".repeat(43)).is_ok() && check_nonce("short").is_err());
        assert!(check_nonce(&format!("{}!", "a".repeat(40))).is_err());
    }
}
