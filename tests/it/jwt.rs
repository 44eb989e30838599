//! Bearer tokens: only RS256 tokens from our issuer, for our client, unexpired, signed by a key
//! in the JWKS pass.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use local_stack::{SigningKey, StackOptions};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

fn unsigned(header: serde_json::Value, claims: &impl serde::Serialize) -> String {
    let part = |v: &serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
    format!("{}.{}.", part(&header), part(&serde_json::to_value(claims).expect("claims")))
}

#[tokio::test]
async fn bad_tokens_are_refused_with_401() {
    let stack = stack().await;
    let alice = register(&stack, &email("alice")).await;
    let key = stack.issuer.current_key();
    let valid = stack.issuer.claims(&alice.sub, &alice.email);

    let mut expired = valid.clone();
    expired.exp = time::OffsetDateTime::now_utc().unix_timestamp() - 3600;
    let mut wrong_issuer = valid.clone();
    wrong_issuer.iss = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other".into();
    let mut wrong_client = valid.clone();
    wrong_client.aud = "another-client".into();
    let public_pem = {
        use rsa::pkcs1::EncodeRsaPublicKey;
        let jwk = key.jwk();
        let n =
            rsa::BigUint::from_bytes_be(&URL_SAFE_NO_PAD.decode(jwk["n"].as_str().expect("n")).expect("b64"));
        let e =
            rsa::BigUint::from_bytes_be(&URL_SAFE_NO_PAD.decode(jwk["e"].as_str().expect("e")).expect("b64"));
        rsa::RsaPublicKey::new(n, e).expect("key").to_pkcs1_pem(rsa::pkcs8::LineEnding::LF).expect("pem")
    };
    let mut hs_header = Header::new(Algorithm::HS256);
    hs_header.kid = Some(key.kid.clone());
    let hs256 = jsonwebtoken::encode(
        &hs_header,
        &valid,
        &EncodingKey::from_secret(public_pem.as_bytes()).expect("secret"),
    )
    .expect("hs256");
    let stranger = SigningKey::generate("unknown-kid");

    let cases = [
        ("expired", key.sign(&expired)),
        ("wrong issuer", key.sign(&wrong_issuer)),
        ("wrong client id", key.sign(&wrong_client)),
        ("alg none", unsigned(json!({"alg": "none", "typ": "JWT", "kid": key.kid}), &valid)),
        ("HS256 signed with the public key", hs256),
        ("unknown kid", stranger.sign(&valid)),
        (
            "known kid, wrong key",
            SigningKey::from_pem(&key.kid, &stranger.to_pem().expect("pem")).expect("key").sign(&valid),
        ),
        ("garbage", "not.a.jwt".into()),
    ];
    for (name, token) in cases {
        let answer = call(&stack, "GET", "/v1/me", Some(&token), None).await;
        assert_problem(&answer, 401, name);
    }
    assert_eq!(get(&stack, "/v1/me", &alice).await.status, StatusCode::OK, "the valid token still passes");
}

#[tokio::test]
async fn a_rotated_key_is_picked_up_by_refetching_the_jwks() {
    let mut options = StackOptions::for_test();
    options.jwks_min_refresh = std::time::Duration::ZERO;
    let stack = stack_with(options).await;
    let alice = register(&stack, &email("alice")).await;
    assert_eq!(get(&stack, "/v1/me", &alice).await.status, StatusCode::OK, "first use caches the JWKS");

    let rotated = SigningKey::generate("rotated-2");
    stack.issuer.publish(rotated.clone());
    let token = rotated.sign(&stack.issuer.claims(&alice.sub, &alice.email));
    let answer = call(&stack, "GET", "/v1/me", Some(&token), None).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
}

#[tokio::test]
async fn an_access_token_names_the_client_in_client_id() {
    let stack = stack().await;
    let alice = register(&stack, &email("alice")).await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let access = json!({
        "sub": alice.sub, "iss": stack.issuer.url, "client_id": local_stack::LOCAL_CLIENT_ID,
        "token_use": "access", "scope": "openid email", "iat": now, "exp": now + 600,
    });
    let answer = call(&stack, "GET", "/v1/me", Some(&stack.issuer.current_key().sign(&access)), None).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
}

#[tokio::test]
async fn time_claims_get_seconds_of_leeway_not_a_minute() {
    let stack = stack().await;
    let alice = register(&stack, &email("alice")).await;
    let key = stack.issuer.current_key();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = || serde_json::to_value(stack.issuer.claims(&alice.sub, &alice.email)).expect("claims");

    // Each of these would pass with jsonwebtoken's default leeway of 60 seconds.
    let mut expired = claims();
    expired["exp"] = json!(now - 30);
    let mut not_yet = claims();
    not_yet["nbf"] = json!(now + 30);
    let mut from_the_future = claims();
    from_the_future["iat"] = json!(now + 30);
    for (name, claims) in
        [("expired 30 s ago", expired), ("nbf in 30 s", not_yet), ("iat in 30 s", from_the_future)]
    {
        let answer = call(&stack, "GET", "/v1/me", Some(&key.sign(&claims)), None).await;
        assert_problem(&answer, 401, name);
    }

    let mut valid_now = claims();
    valid_now["nbf"] = json!(now - 1);
    let answer = call(&stack, "GET", "/v1/me", Some(&key.sign(&valid_now)), None).await;
    assert_eq!(answer.status, StatusCode::OK, "an nbf just past passes: {:?}", answer.body);
}

#[tokio::test]
async fn a_key_the_issuer_drops_stops_being_trusted_within_an_hour() {
    let stack = stack().await;
    let alice = register(&stack, &email("alice")).await;
    let old = stack.issuer.current_key();
    assert_eq!(get(&stack, "/v1/me", &alice).await.status, StatusCode::OK, "the keys are cached");

    // The issuer rotates: a new key, and the old one is dropped.
    stack.issuer.publish(SigningKey::generate("rotated-2"));
    stack.issuer.retire(&old.kid);
    assert_eq!(get(&stack, "/v1/me", &alice).await.status, StatusCode::OK, "cached keys hold for now");

    stack.clock.advance(time::Duration::minutes(61));
    let answer = get(&stack, "/v1/me", &alice).await;
    assert_problem(&answer, 401, "a token signed with the dropped key, an hour later");
    let fresh = stack.issuer.token(&alice.sub, &alice.email);
    assert_eq!(call(&stack, "GET", "/v1/me", Some(&fresh), None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_failing_jwks_is_fetched_again_only_after_a_backoff() {
    use std::sync::atomic::Ordering;
    let stack = stack().await;
    let alice = register(&stack, &email("alice")).await;
    stack.clock.freeze(); // only advance() moves the backoff's clock: no timing in this test
    stack.jwks.down.store(true, Ordering::SeqCst);
    let fetches = || stack.jwks.fetches.load(Ordering::SeqCst);

    assert_problem(&get(&stack, "/v1/me", &alice).await, 503, "the first request, JWKS down");
    assert_eq!(fetches(), 1);
    for _ in 0..5 {
        assert_problem(&get(&stack, "/v1/me", &alice).await, 503, "within the backoff");
    }
    assert_eq!(fetches(), 1, "no fetch while backing off");

    stack.clock.advance(time::Duration::seconds(2));
    assert_problem(&get(&stack, "/v1/me", &alice).await, 503, "after the backoff, still down");
    assert_eq!(fetches(), 2, "one more fetch after the backoff");
    assert_problem(&get(&stack, "/v1/me", &alice).await, 503, "the backoff doubled");
    assert_eq!(fetches(), 2);

    stack.jwks.down.store(false, Ordering::SeqCst);
    stack.clock.advance(time::Duration::seconds(3));
    assert_eq!(get(&stack, "/v1/me", &alice).await.status, StatusCode::OK, "back once the JWKS is");
    assert_eq!(fetches(), 3);
}
