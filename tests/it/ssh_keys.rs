//! A person's SSH keys: parsed, fingerprinted, at most 10 (raced), each once.

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn keys_are_listed_with_fingerprints_refused_when_not_keys_and_removed_by_id() {
    let stack = stack().await;
    let bob = register(&stack, &email("bob")).await;
    let line = ssh_key_line("bob@laptop");
    let added = post(&stack, "/v1/me/ssh-keys", &bob, json!({ "public_key": format!("  {line}\n") })).await;
    assert_eq!(added.status, StatusCode::CREATED, "{:?}", added.body);
    assert_eq!(added.body["public_key"], json!(line));
    assert_eq!(
        (added.body["algorithm"].clone(), added.body["bits"].clone()),
        (json!("ssh-ed25519"), json!(256))
    );
    assert!(added.body["fingerprint"].as_str().is_some_and(|f| f.starts_with("SHA256:")));
    let again = post(&stack, "/v1/me/ssh-keys", &bob, json!({ "public_key": line })).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "the same key twice: {:?}", again.body);

    for bad in [
        json!({ "public_key": "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7 short" }),
        json!({ "public_key": "-----BEGIN OPENSSH PRIVATE KEY-----" }),
        json!({ "public_key": format!("{line}\n{}", ssh_key_line("second")) }),
        json!({ "public_key": "" }),
        json!({ "key": line }),
    ] {
        let refused = post(&stack, "/v1/me/ssh-keys", &bob, bad.clone()).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{bad}: {:?}", refused.body);
        assert!(refused.body["detail"].is_string(), "{:?}", refused.body);
    }

    let listed = get(&stack, "/v1/me/ssh-keys", &bob).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body["keys"].as_array().map(Vec::len), Some(1), "{:?}", listed.body);
    assert_eq!(listed.body["max_keys"], 10);
    let id = added.body["key_id"].as_str().expect("id");
    // Another person cannot remove it: it is not theirs.
    let carol = register(&stack, &email("carol")).await;
    let path = format!("/v1/me/ssh-keys/{id}");
    assert_eq!(call(&stack, "DELETE", &path, Some(&carol.token), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(call(&stack, "DELETE", &path, Some(&bob.token), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(call(&stack, "DELETE", &path, Some(&bob.token), None).await.status, StatusCode::NOT_FOUND);
    let bad_id = call(&stack, "DELETE", "/v1/me/ssh-keys/not-an-id", Some(&bob.token), None).await;
    assert_eq!(bad_id.status, StatusCode::BAD_REQUEST);
    assert_eq!(get(&stack, "/v1/me/ssh-keys", &bob).await.body["keys"], json!([]));
}

#[tokio::test]
async fn twelve_keys_added_at_once_leave_exactly_ten() {
    let stack = stack().await;
    let bob = register(&stack, &email("bob")).await;
    let answers = join_all((0..12).map(|i| {
        post(&stack, "/v1/me/ssh-keys", &bob, json!({ "public_key": ssh_key_line(&format!("k{i}")) }))
    }))
    .await;
    let statuses: Vec<StatusCode> = answers.iter().map(|a| a.status).collect();
    let created = statuses.iter().filter(|s| **s == StatusCode::CREATED).count();
    let refused = statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count();
    assert_eq!((created, refused), (10, 2), "{statuses:?}");
    let listed = get(&stack, "/v1/me/ssh-keys", &bob).await;
    assert_eq!(listed.body["keys"].as_array().map(Vec::len), Some(10));
}
