//! Nodes enroll with their instance identity document, signed by the stack's stand-in metadata
//! service (see `local_stack::imds`), and what enrollment refuses: a copied document without the
//! node's nonce, another cluster's instance, a forged or re-signed document, an older document
//! than the one the instance enrolled with, a terminated cluster; and how credentials end: when
//! the hour is over, when the cluster is terminated, when an owner or admin revokes them.

use reqwest::StatusCode;
use serde_json::json;
use time::Duration;

use crate::cluster_users::{
    alice_connected, created, enroll, enroll_with, identity_document, instances, nonce,
};
use crate::clusters::{act, settles};
use crate::support::*;

async fn pull(stack: &local_stack::Stack, cluster: &str, credential: &str) -> StatusCode {
    call(stack, "GET", &format!("/v1/agent/clusters/{cluster}/users?after=0"), Some(credential), None)
        .await
        .status
}

fn credential(answer: &Answer) -> String {
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    answer.body["credential"].as_str().expect("a credential").to_owned()
}

#[tokio::test]
async fn a_node_enrolls_with_its_signed_document_and_its_nonce_alone() {
    let stack = stack().await;
    // Every token is issued before the clock stops: one issued later would be "in the future".
    let (alice, org) = alice_connected(&stack).await;
    let bob = register(&stack, &email("bob")).await;
    let bob_org = personal_org(&stack, &bob).await;
    stack.clock.freeze();
    let one = created(&stack, &alice, &org, "one", "managed").await;
    let two = created(&stack, &alice, &org, "two", "managed").await;
    let head = instances(&stack, &alice, &org, &one).await.remove(0);
    let other = instances(&stack, &alice, &org, &two).await.remove(0);
    let (document, signature) = identity_document(&stack, &org, &one, &head).await;
    assert!(document.contains(&format!("\"instanceId\" : \"{head}\"")), "{document}");

    // The first enrollment sets the nonce; the answer is bound to this instance of this cluster.
    let mine = nonce();
    let first = enroll_with(&stack, &org, &one, &document, &signature, &mine).await;
    let first_credential = credential(&first);
    assert_eq!(first.body["instance_id"], head.as_str());
    assert_eq!(first.body["cluster_id"], one.as_str());
    assert!(first_credential.starts_with("ocn_"));
    assert_eq!(pull(&stack, &one, &first_credential).await, StatusCode::OK);
    assert_eq!(pull(&stack, &two, &first_credential).await, StatusCode::UNAUTHORIZED, "its cluster only");

    // The same document without the node's nonce (a copy read by anyone on the instance) is
    // refused; with it (the node renewing), a new credential replaces the old at once.
    let copied = enroll_with(&stack, &org, &one, &document, &signature, &nonce()).await;
    assert_eq!(copied.status, StatusCode::UNAUTHORIZED, "{:?}", copied.body);
    let renewed = credential(&enroll_with(&stack, &org, &one, &document, &signature, &mine).await);
    assert_eq!(pull(&stack, &one, &first_credential).await, StatusCode::UNAUTHORIZED);
    assert_eq!(pull(&stack, &one, &renewed).await, StatusCode::OK);

    // Another cluster's instance, a document changed by one byte, a signature over something
    // else, the wrong organization: all 401, and none says why.
    let (other_doc, other_sig) = identity_document(&stack, &org, &two, &other).await;
    let elsewhere = enroll_with(&stack, &org, &one, &other_doc, &other_sig, &nonce()).await;
    assert_eq!(elsewhere.status, StatusCode::UNAUTHORIZED, "{:?}", elsewhere.body);
    let forged = document.replace(&head, &other);
    assert_eq!(
        enroll_with(&stack, &org, &two, &forged, &signature, &nonce()).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        enroll_with(&stack, &org, &two, &other_doc, &signature, &nonce()).await.status,
        StatusCode::UNAUTHORIZED
    );
    let wrong_org = enroll_with(&stack, &bob_org, &one, &document, &signature, &mine).await;
    assert_eq!(wrong_org.status, StatusCode::UNAUTHORIZED);
    for refused in [&copied, &elsewhere, &wrong_org] {
        let text = refused.body.to_string();
        assert!(!text.contains(&head) && !text.contains("nonce") && !text.contains(&one), "{text}");
    }
    // A nonce that is not one is bad input.
    assert_problem(&enroll_with(&stack, &org, &one, &document, &signature, "short").await, 400, "nonce");

    // The hour ends: the credential with it. The node enrolls again (same nonce) and goes on.
    stack.clock.advance(Duration::minutes(61));
    assert_eq!(pull(&stack, &one, &renewed).await, StatusCode::UNAUTHORIZED);
    let later = credential(&enroll(&stack, &org, &one, &head, &mine).await);
    assert_eq!(pull(&stack, &one, &later).await, StatusCode::OK);

    // Stopped and started, the instance has a newer document; once the node enrolled with it,
    // the older one no longer enrolls, even with the nonce.
    assert_eq!(act(&stack, &alice, &org, &one, "stop").await.status, StatusCode::ACCEPTED);
    settles(&stack, &alice, &org, &one, "stopped").await;
    stack.clock.advance(Duration::minutes(2));
    assert_eq!(act(&stack, &alice, &org, &one, "start").await.status, StatusCode::ACCEPTED);
    settles(&stack, &alice, &org, &one, "running").await;
    let (newer, newer_sig) = identity_document(&stack, &org, &one, &head).await;
    assert_ne!(newer, document, "a new pendingTime");
    credential(&enroll_with(&stack, &org, &one, &newer, &newer_sig, &mine).await);
    let stale = enroll_with(&stack, &org, &one, &document, &signature, &mine).await;
    assert_eq!(stale.status, StatusCode::UNAUTHORIZED, "{:?}", stale.body);

    // Terminated: its nodes' credentials stop, and nothing enrolls.
    let last = credential(&enroll_with(&stack, &org, &one, &newer, &newer_sig, &mine).await);
    assert_eq!(act(&stack, &alice, &org, &one, "terminate").await.status, StatusCode::ACCEPTED);
    settles(&stack, &alice, &org, &one, "terminated").await;
    assert_eq!(pull(&stack, &one, &last).await, StatusCode::UNAUTHORIZED);
    let after = enroll_with(&stack, &org, &one, &newer, &newer_sig, &mine).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED, "{:?}", after.body);

    // No answer about clusters carries a credential.
    for path in
        [format!("/v1/organizations/{org}/clusters"), format!("/v1/organizations/{org}/clusters/{two}")]
    {
        let read = get(&stack, &path, &alice).await;
        assert!(!read.body.to_string().contains("ocn_"), "{:?}", read.body);
    }
}

/// Two enrollments of one instance with different nonces at the same moment (the node and a copy
/// of its document): the condition on the node's item lets exactly one set the nonce.
#[tokio::test]
async fn of_two_first_enrollments_at_once_exactly_one_wins() {
    let stack = stack().await;
    let (alice, org) = alice_connected(&stack).await;
    let cluster = created(&stack, &alice, &org, "raced", "managed").await;
    let head = instances(&stack, &alice, &org, &cluster).await.remove(0);
    let (document, signature) = identity_document(&stack, &org, &cluster, &head).await;
    let nonces: Vec<String> = (0..6).map(|_| nonce()).collect();
    let answers = futures::future::join_all(
        nonces.iter().map(|n| enroll_with(&stack, &org, &cluster, &document, &signature, n)),
    )
    .await;
    let won: Vec<usize> = (0..answers.len()).filter(|i| answers[*i].status == StatusCode::OK).collect();
    assert_eq!(won.len(), 1, "{:?}", answers.iter().map(|a| a.status).collect::<Vec<_>>());
    for (i, answer) in answers.iter().enumerate() {
        if i != won[0] {
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{:?}", answer.body);
        }
    }
    // The winner's nonce enrolls again; the others' never.
    let winner = &nonces[won[0]];
    assert_eq!(
        enroll_with(&stack, &org, &cluster, &document, &signature, winner).await.status,
        StatusCode::OK
    );
    let loser = &nonces[(won[0] + 1) % nonces.len()];
    assert_eq!(
        enroll_with(&stack, &org, &cluster, &document, &signature, loser).await.status,
        StatusCode::UNAUTHORIZED
    );
    // Revoked, the instance's nonce is forgotten: the next enrollment sets it anew.
    let revoked = crate::cluster_users::revoke_nodes(&stack, &alice, &org, &cluster).await;
    assert_eq!((revoked.status, revoked.body["revoked"].clone()), (StatusCode::OK, json!(1)));
    assert_eq!(
        enroll_with(&stack, &org, &cluster, &document, &signature, loser).await.status,
        StatusCode::OK
    );
}
