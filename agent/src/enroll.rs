//! How a node gets its credential, with no secret ever given to it: it reads its instance identity
//! document and AWS's signature of it from the instance metadata service (IMDSv2), and sends them
//! with its nonce to the control plane, which answers with a credential for one hour. The nonce
//! is made on the node's first start (256 bits from the kernel) and kept in a root-only file: the
//! control plane requires the same nonce at every later enrollment of this instance, so a copy of
//! the document (which any process on the instance may read) enrolls nothing. The credential is
//! kept in a root-only file too, and renewed by enrolling again when less than a quarter of its
//! hour is left, or at once when the control plane refuses it (revoked).

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Renew when fewer seconds than this are left.
const RENEW_BEFORE_SECONDS: i64 = 900;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Credential {
    pub credential: String,
    /// RFC 3339.
    pub expires_at: String,
}

impl Credential {
    fn fresh(&self) -> bool {
        let format = time::format_description::well_known::Rfc3339;
        time::OffsetDateTime::parse(&self.expires_at, &format)
            .is_ok_and(|end| (end - time::OffsetDateTime::now_utc()).whole_seconds() > RENEW_BEFORE_SECONDS)
    }
}

/// The node's identity on disk: its nonce and its current credential.
pub struct Identity {
    nonce: PathBuf,
    credential: PathBuf,
}

impl Identity {
    pub fn new(state_dir: &Path) -> Self {
        Self { nonce: state_dir.join("nonce"), credential: state_dir.join("credential.json") }
    }

    /// The node's nonce, made on first use.
    pub fn nonce(&self) -> Result<String, String> {
        match std::fs::read_to_string(&self.nonce) {
            Ok(nonce) if nonce.trim().len() >= 32 => return Ok(nonce.trim().to_owned()),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("cannot read {}: {e}", self.nonce.display())),
        }
        let mut bytes = [0u8; 32];
        std::fs::File::open("/dev/urandom")
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes))
            .map_err(|e| format!("cannot read /dev/urandom: {e}"))?;
        let nonce: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        write_private(&self.nonce, nonce.as_bytes())?;
        Ok(nonce)
    }

    /// The credential on disk, if it has more than a quarter of an hour left.
    pub fn current(&self) -> Option<Credential> {
        let text = std::fs::read(&self.credential).ok()?;
        serde_json::from_slice::<Credential>(&text).ok().filter(Credential::fresh)
    }

    pub fn save(&self, credential: &Credential) -> Result<(), String> {
        let bytes = serde_json::to_vec(credential).map_err(|e| e.to_string())?;
        write_private(&self.credential, &bytes)
    }

    /// Forgets the credential (the control plane refused it).
    pub fn forget(&self) {
        let _ = std::fs::remove_file(&self.credential);
    }
}

/// Writes a root-only (0600) file whole: a new file, synced, renamed over the old one.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let partial = path.with_extension("partial");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&partial)
        .map_err(|e| format!("cannot write {}: {e}", partial.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", partial.display()))?;
    std::fs::rename(&partial, path).map_err(|e| format!("cannot replace {}: {e}", path.display()))
}

/// The instance's identity document and its signature, from the metadata service at `base`
/// (`http://169.254.169.254` on EC2), through an IMDSv2 session.
pub async fn identity_document(http: &reqwest::Client, base: &str) -> Result<(String, String), String> {
    let token = http
        .put(format!("{base}/latest/api/token"))
        .header("x-aws-ec2-metadata-token-ttl-seconds", "300")
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| format!("the instance metadata service gave no session: {}", crate::causes(&e)))?
        .text()
        .await
        .map_err(|e| format!("the instance metadata session: {e}"))?;
    let mut read = Vec::new();
    for which in ["document", "signature"] {
        let text = http
            .get(format!("{base}/latest/dynamic/instance-identity/{which}"))
            .header("x-aws-ec2-metadata-token", token.trim())
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| format!("the instance identity {which}: {}", crate::causes(&e)))?
            .text()
            .await
            .map_err(|e| format!("the instance identity {which}: {}", crate::causes(&e)))?;
        read.push(text);
    }
    let signature = read.pop().unwrap_or_default();
    Ok((read.pop().unwrap_or_default(), signature))
}
