//! A person's SSH public keys: what their accounts on every managed cluster of every organization
//! they belong to accept. Parsed with `ssh-key` (RustCrypto); Ed25519, ECDSA (NIST P-256, P-384,
//! P-521) and RSA of at least 3072 bits; at most 10 per person.

use serde::{Deserialize, Serialize};

use super::{DomainError, Timestamp};

/// Most keys one person has.
pub const MAX_SSH_KEYS: usize = 10;
/// Shortest RSA modulus accepted.
pub const MIN_RSA_BITS: u32 = 3072;
/// Longest key line accepted (an RSA 16384-bit key is about 2.8 kB).
const MAX_LINE: usize = 8192;

/// One public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SshKey {
    /// The key in paths: its SHA-256 fingerprint's digest in base64url.
    pub key_id: String,
    /// As `ssh-keygen -l` prints it: `SHA256:...`.
    pub fingerprint: String,
    /// `ssh-ed25519`, `ecdsa-sha2-nistp256` (384, 521) or `ssh-rsa`.
    pub algorithm: String,
    pub bits: u32,
    pub comment: String,
    /// The key as one `authorized_keys` line.
    pub public_key: String,
    pub added_at: Timestamp,
}

impl SshKey {
    /// The key an OpenSSH public key line (`ssh-ed25519 AAAA... comment`) holds.
    pub fn parse(line: &str, now: Timestamp) -> Result<SshKey, DomainError> {
        let invalid = |why: &str| DomainError::Invalid(format!("public_key: {why}"));
        let line = line.trim();
        if line.is_empty() {
            return Err(invalid("empty; paste the contents of a .pub file"));
        }
        if line.len() > MAX_LINE {
            return Err(invalid("longer than any key this service accepts"));
        }
        if line.chars().any(char::is_control) {
            return Err(invalid("one line, without control characters"));
        }
        let key = ssh_key::PublicKey::from_openssh(line)
            .map_err(|_| invalid("not an OpenSSH public key (`<type> <base64> [comment]`)"))?;
        use ssh_key::public::KeyData;
        let bits = match key.key_data() {
            KeyData::Ed25519(_) => 256,
            KeyData::Ecdsa(ecdsa) => match ecdsa.curve() {
                ssh_key::EcdsaCurve::NistP256 => 256,
                ssh_key::EcdsaCurve::NistP384 => 384,
                ssh_key::EcdsaCurve::NistP521 => 521,
            },
            KeyData::Rsa(rsa) => {
                let modulus =
                    rsa.n.as_positive_bytes().ok_or_else(|| invalid("an RSA key without a modulus"))?;
                let leading = modulus.first().map_or(8, |b| b.leading_zeros());
                (modulus.len() as u32 * 8).saturating_sub(leading)
            }
            _ => return Err(invalid("Ed25519, ECDSA or RSA keys only")),
        };
        if matches!(key.key_data(), KeyData::Rsa(_)) && bits < MIN_RSA_BITS {
            return Err(invalid(&format!("an RSA key of {bits} bits; at least {MIN_RSA_BITS}")));
        }
        let fingerprint = key.fingerprint(ssh_key::HashAlg::Sha256).to_string();
        let digest = fingerprint.trim_start_matches("SHA256:");
        let key_id = digest.replace('+', "-").replace('/', "_");
        let comment: String = key.comment().chars().take(100).collect();
        let mut plain = key.clone();
        plain.set_comment(comment.as_str());
        let public_key = plain.to_openssh().map_err(|_| invalid("cannot be written back"))?;
        Ok(SshKey {
            key_id,
            fingerprint,
            algorithm: key.algorithm().as_str().to_owned(),
            bits,
            comment,
            public_key,
            added_at: now,
        })
    }
}

/// A key id as a path carries it: base64url of 32 bytes, 43 characters.
pub fn check_key_id(raw: &str) -> Result<(), DomainError> {
    if raw.len() == 43 && raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        Ok(())
    } else {
        Err(DomainError::Invalid("key_id: the key's id as listed (43 characters of base64url)".into()))
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use base64::Engine;

    /// An OpenSSH Ed25519 public key line made from `seed` (any 32 bytes are a key to the parser).
    pub fn ed25519_line(seed: u8, comment: &str) -> String {
        let mut blob = Vec::new();
        blob.extend_from_slice(&11u32.to_be_bytes());
        blob.extend_from_slice(b"ssh-ed25519");
        blob.extend_from_slice(&32u32.to_be_bytes());
        blob.extend_from_slice(&[seed; 32]);
        format!("ssh-ed25519 {} {comment}", base64::engine::general_purpose::STANDARD.encode(blob))
    }

    /// An OpenSSH RSA public key line with a modulus of `bits`.
    pub fn rsa_line(bits: usize) -> String {
        let mut blob = Vec::new();
        let mut string = |bytes: &[u8]| {
            blob.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
            blob.extend_from_slice(bytes);
        };
        string(b"ssh-rsa");
        string(&[1, 0, 1]);
        let mut n = vec![0u8];
        n.push(0xc3);
        n.extend(std::iter::repeat_n(0x5a, bits / 8 - 2));
        n.push(0x0b);
        string(&n);
        format!("ssh-rsa {} ops@example.com", base64::engine::general_purpose::STANDARD.encode(blob))
    }

    fn now() -> Timestamp {
        Timestamp::from_datetime(time::OffsetDateTime::UNIX_EPOCH)
    }

    #[test]
    fn keys_are_parsed_fingerprinted_and_written_back_as_one_line() {
        let key = SshKey::parse(&format!("  {}\n", ed25519_line(7, "bob@laptop")), now()).expect("a key");
        assert_eq!(
            (key.algorithm.as_str(), key.bits, key.comment.as_str()),
            ("ssh-ed25519", 256, "bob@laptop")
        );
        assert!(key.fingerprint.starts_with("SHA256:") && key.fingerprint.len() == 50, "{}", key.fingerprint);
        assert!(check_key_id(&key.key_id).is_ok(), "{}", key.key_id);
        assert_eq!(key.public_key, ed25519_line(7, "bob@laptop"));
        assert_ne!(key.key_id, SshKey::parse(&ed25519_line(8, "x"), now()).expect("another").key_id);
        let rsa = SshKey::parse(&rsa_line(3072), now()).expect("RSA 3072");
        assert_eq!((rsa.algorithm.as_str(), rsa.bits), ("ssh-rsa", 3072));
    }

    /// Keys `ssh-keygen` made (public halves), and the fingerprints `ssh-keygen -l` printed.
    #[test]
    fn ssh_keygens_keys_have_ssh_keygens_fingerprints() {
        for (line, algorithm, bits, fingerprint) in [
            (
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHlu9Qf0Z8xMJd/siI2gNnOv2vzkYjb6OTiRZXeI4RTq alice@laptop",
                "ssh-ed25519",
                256,
                "SHA256:hRSnmdnbPpd2SpffeuJCe6T/VsAe3UdYZSXbvJ/1Nr0",
            ),
            (
                "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBBoMdOVuimIXCPAdZ2UHnwkLHyUF7SbU9Iknu0XIfO0gBIdwwW3ikVly8E2MUuMZBs5zHOqTylRGTjDePCcz3UNgRhe62w0/O+JGpOey65PEV0k9NnKNOzwNU0OUIUbCJA== alice@laptop",
                "ecdsa-sha2-nistp384",
                384,
                "SHA256:SedXfUKRptsvmpBm0ygbUevWUhqsdlIMvBR2hY20sd0",
            ),
            (
                "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQDFSfG+7sOYDoo5SNUpS2SGyL24tYjWDtqiXwNMStOURJ8Gak0iOu/ZD94UQAyAayHP/i3l9NcW4qZEUppKYO8EUH7UmbWD5xJqbhGQ1JKgefpfYvc3N9Vj22sM2xze8PkZ78zwhCcWSDqUk/ftupTjc+TF+OGuDgksc7cOhltpWq7t4HT4mZ/1qID7XpnJjJCDKxSMqaAEL3l0VrtqWY1uKSawZIYvl2SFU+EMN3ycSdv4eEqqjzb7VIIw5NBwspOnWxDG3zEgD8A6lCf7ZaEjvAddK0At9BnSY2bhnbcZPKY3EdV4IuIAmbN/ykTAhrgJvFnXUF2zZuZRRvXQGrn0IxLz6YMx25k7hiVLsg3jQlhBY2Hs+mq/wTSyEApOXbJUpbCd6YRONHth0kvLBGeFZIf2In28YBt18HL6spepfhJDU+V5f2dABnB76878S9VJSg866s98ORkVFivAL9n4abSMmoNlLoPwb4PwqBv8zMRg/vbI7XlNsE3W2dDJPN8= alice@laptop",
                "ssh-rsa",
                3072,
                "SHA256:N/ftR2fZwY36KYx4je9PN4xNZzwQ5rQt+nMpJwubahQ",
            ),
        ] {
            let key = SshKey::parse(line, now()).expect("ssh-keygen's key");
            assert_eq!(
                (key.algorithm.as_str(), key.bits, key.fingerprint.as_str()),
                (algorithm, bits, fingerprint)
            );
            assert_eq!(key.public_key, line);
        }
    }

    #[test]
    fn short_rsa_keys_garbage_and_several_lines_are_refused() {
        for bad in [
            rsa_line(2048),
            String::new(),
            "ssh-ed25519 not-base64".into(),
            format!("{}\n{}", ed25519_line(1, "a"), ed25519_line(2, "b")),
            "-----BEGIN OPENSSH PRIVATE KEY-----".into(),
            "x".repeat(9000),
        ] {
            let refused = SshKey::parse(&bad, now());
            assert!(matches!(refused, Err(DomainError::Invalid(_))), "{bad:.40}: {refused:?}");
        }
        assert!(check_key_id("../x").is_err() && check_key_id(&"a".repeat(44)).is_err());
    }
}
