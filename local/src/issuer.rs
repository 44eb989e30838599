//! A local token issuer: an RSA key pair, its JWKS served over HTTP, and tokens shaped like
//! Cognito's ID tokens, so that local requests pass the same RS256 verification as production.

use std::sync::{Arc, RwLock};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, pkcs8::LineEnding};
use serde::Serialize;

/// The app client id local tokens are issued to.
pub const LOCAL_CLIENT_ID: &str = "local-client";

/// One signing key.
#[derive(Clone)]
pub struct SigningKey {
    pub kid: String,
    private: RsaPrivateKey,
}

impl SigningKey {
    pub fn generate(kid: &str) -> Self {
        let mut rng = rand::thread_rng();
        let private =
            RsaPrivateKey::new(&mut rng, 2048).unwrap_or_else(|e| panic!("RSA key generation failed: {e}"));
        Self { kid: kid.to_owned(), private }
    }

    pub fn from_pem(kid: &str, pem: &str) -> Result<Self, rsa::pkcs1::Error> {
        Ok(Self { kid: kid.to_owned(), private: RsaPrivateKey::from_pkcs1_pem(pem)? })
    }

    pub fn to_pem(&self) -> Result<String, rsa::pkcs1::Error> {
        Ok(self.private.to_pkcs1_pem(LineEnding::LF)?.to_string())
    }

    pub fn jwk(&self) -> serde_json::Value {
        let public = self.private.to_public_key();
        serde_json::json!({
            "kty": "RSA",
            "alg": "RS256",
            "use": "sig",
            "kid": self.kid,
            "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
        })
    }

    fn encoding_key(&self) -> EncodingKey {
        let der = self.private.to_pkcs1_der().unwrap_or_else(|e| panic!("PKCS#1 encoding failed: {e}"));
        EncodingKey::from_rsa_der(der.as_bytes())
    }

    /// Signs arbitrary claims with this key (tests forge tokens with it).
    pub fn sign<C: Serialize>(&self, claims: &C) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding_key())
            .unwrap_or_else(|e| panic!("signing failed: {e}"))
    }
}

/// Claims of a Cognito ID token.
#[derive(Debug, Clone, Serialize)]
pub struct IdTokenClaims {
    pub sub: String,
    pub email: String,
    pub email_verified: bool,
    pub iss: String,
    pub aud: String,
    pub token_use: String,
    pub iat: i64,
    pub exp: i64,
}

/// The issuer: its URL, its published keys, and the key it signs with.
#[derive(Clone)]
pub struct Issuer {
    pub url: String,
    published: Arc<RwLock<Vec<SigningKey>>>,
}

impl Issuer {
    pub fn new(url: String, key: SigningKey) -> Self {
        Self { url, published: Arc::new(RwLock::new(vec![key])) }
    }

    pub fn jwks(&self) -> serde_json::Value {
        let keys: Vec<_> =
            self.published.read().map(|k| k.iter().map(SigningKey::jwk).collect()).unwrap_or_default();
        serde_json::json!({ "keys": keys })
    }

    /// Publishes another key, as a rotation does.
    pub fn publish(&self, key: SigningKey) {
        if let Ok(mut keys) = self.published.write() {
            keys.push(key);
        }
    }

    /// Stops publishing the key `kid`, as the last step of a rotation does.
    pub fn retire(&self, kid: &str) {
        if let Ok(mut keys) = self.published.write() {
            keys.retain(|k| k.kid != kid);
        }
    }

    pub fn current_key(&self) -> SigningKey {
        self.published
            .read()
            .ok()
            .and_then(|k| k.last().cloned())
            .unwrap_or_else(|| panic!("the issuer has no key"))
    }

    /// Valid ID-token claims for `sub` and `email`, good for an hour.
    pub fn claims(&self, sub: &str, email: &str) -> IdTokenClaims {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        IdTokenClaims {
            sub: sub.to_owned(),
            email: email.to_owned(),
            email_verified: true,
            iss: self.url.clone(),
            aud: LOCAL_CLIENT_ID.to_owned(),
            token_use: "id".to_owned(),
            iat: now,
            exp: now + 3600,
        }
    }

    /// A valid bearer token for `sub` and `email`.
    pub fn token(&self, sub: &str, email: &str) -> String {
        self.current_key().sign(&self.claims(sub, email))
    }
}
