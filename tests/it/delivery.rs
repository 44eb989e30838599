//! Every invitation the API accepts is mailed exactly once through the local stack's stream
//! pump, whatever was refused before or beside it: a refused (cancelled) transaction must not cost
//! the stream a record, and a stream replaced under the pump must be noticed and followed.

use std::sync::atomic::Ordering;

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

/// The dev stack's pump slows down while nothing happens; what comes after a quiet spell is still
/// delivered, once, and the pump is back to its quick pace for what follows.
#[tokio::test]
async fn a_pump_slowed_by_a_quiet_spell_still_delivers_everything_once() {
    let options = local_stack::StackOptions {
        pump_options: local_stack::pump::PumpOptions {
            poll_interval: std::time::Duration::from_millis(100),
            idle_interval: std::time::Duration::from_millis(1600),
            ..Default::default()
        },
        ..local_stack::StackOptions::for_test()
    };
    let stack = stack_with(options).await;
    let alice = register(&stack, &email("alice")).await;
    let org = personal_org(&stack, &alice).await;
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    let invitations = futures::future::join_all((0..3).map(|i| {
        let (stack, alice, org) = (&stack, &alice, &org);
        async move {
            let to = email(&format!("quiet{i}"));
            (invite(stack, alice, org, &to).await, to)
        }
    }))
    .await;
    for (invitation, to) in &invitations {
        mailed_once(&stack, invitation, to).await;
    }
    let later = email("later");
    let invitation = invite(&stack, &alice, &org, &later).await;
    mailed_once(&stack, &invitation, &later).await;
}

#[tokio::test]
async fn an_invitation_after_a_refused_one_is_still_mailed() {
    let stack = stack().await;
    let alice = register(&stack, &email("alice")).await;
    let org = personal_org(&stack, &alice).await;
    let (a, b) = (email("a"), email("b"));
    let path = format!("/v1/organizations/{org}/invitations");

    let first = invite(&stack, &alice, &org, &a).await;
    mailed_once(&stack, &first, &a).await;
    let again = post(&stack, &path, &alice, json!({ "email": a })).await;
    assert_problem(&again, 409, "inviting the same address twice");
    let second = invite(&stack, &alice, &org, &b).await;

    mailed_once(&stack, &second, &b).await;
    assert_eq!(emails_to(&a).await.len(), 1, "the refused request sent nothing");
}

#[tokio::test]
async fn every_invitation_created_amid_refusals_is_mailed_once() {
    let stack = stack().await;
    let alice = register(&stack, &email("alice")).await;
    let org = personal_org(&stack, &alice).await;
    let path = format!("/v1/organizations/{org}/invitations");
    // Ten distinct addresses, each asked for twice at once: ten 201s and ten 409s, interleaved.
    let addresses: Vec<String> = (0..10).map(|i| email(&format!("p{i}"))).collect();
    let requests = addresses.iter().chain(addresses.iter()).map(|to| {
        let (stack, alice, path) = (&stack, &alice, &path);
        async move { (to.clone(), post(stack, path, alice, json!({ "email": to })).await) }
    });
    let answers = join_all(requests).await;

    let created: Vec<_> = answers.iter().filter(|(_, a)| a.status == StatusCode::CREATED).collect();
    let refused = answers.iter().filter(|(_, a)| a.status == StatusCode::CONFLICT).count();
    assert_eq!((created.len(), refused), (10, 10));
    for (to, answer) in created {
        let id = answer.body["invitation_id"].as_str().expect("invitation id");
        mailed_once(&stack, id, to).await;
    }
}

#[tokio::test]
async fn the_pump_follows_the_table_to_a_new_stream_and_says_so() {
    let stack = stack().await;
    let alice = register(&stack, &email("alice")).await;
    let org = personal_org(&stack, &alice).await;
    let before = email("before");
    let id = invite(&stack, &alice, &org, &before).await;
    mailed_once(&stack, &id, &before).await;

    // The table is dropped and made anew (as a reset of the dev stack does): it names a new stream.
    let dynamodb = aws_sdk_dynamodb::Client::new(&emulator().await.sdk_config().await);
    dynamodb.delete_table().table_name(&stack.options.table).send().await.expect("delete the table");
    let new_stream =
        local_stack::table::create(&dynamodb, &stack.options.table).await.expect("create the table again");
    assert_ne!(new_stream, stack.stream_arn);
    let alice = register(&stack, &email("alice")).await;
    let org = personal_org(&stack, &alice).await;

    let after = email("after");
    let id = invite(&stack, &alice, &org, &after).await;
    mailed_once(&stack, &id, &after).await;
    assert!(stack.pump_stats.stream_changes.load(Ordering::SeqCst) >= 1, "the pump noticed the change");
    assert_eq!(emails_to(&before).await.len(), 1, "starting over on the new stream resent nothing");
}
