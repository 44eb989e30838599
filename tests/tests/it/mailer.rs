//! The invitation mailer under failure and redelivery, fed the table's real stream records in
//! Lambda's event shape.

use aws_sdk_dynamodbstreams::types::Record;
use lambda_runtime::LambdaEvent;
use local_stack::pump::{lambda_event, read_batch};
use local_stack::{Stack, StackOptions};

use crate::support::*;

fn sequence_of(record: &Record) -> String {
    record.dynamodb.as_ref().and_then(|d| d.sequence_number.clone()).expect("sequence number")
}

fn is_invitation_insert(record: &Record) -> bool {
    let image = record.dynamodb.as_ref().and_then(|d| d.new_image.as_ref());
    record.event_name.as_ref().map(|n| n.as_str()) == Some("INSERT")
        && image.and_then(|i| i.get("entity")).and_then(|v| v.as_s().ok()).map(String::as_str)
            == Some("invitation")
}

/// A stack whose SES sender is verified or not (an unverified sender is our SES outage), with
/// or without the background pump, where Alice has invited a fresh address. Returns the stack,
/// the address and the invitation id.
async fn alice_invited_someone(sender_verified: bool, pump: bool) -> (Stack, String, String) {
    let mut options = StackOptions::for_test();
    options.verify_sender = sender_verified;
    options.pump = pump;
    let stack = stack_with(options).await;
    let alice = register(&stack, &email("alice")).await;
    let org = personal_org(&stack, &alice).await;
    let invitee = email("bob");
    let id = invite(&stack, &alice, &org, &invitee).await;
    (stack, invitee, id)
}

/// The whole stream so far, as one Lambda event.
async fn stream_batch(stack: &Stack) -> (Vec<Record>, aws_lambda_events::dynamodb::Event) {
    let records = read_batch(&stack.streams, &stack.stream_arn, 100).await.expect("stream");
    let event = lambda_event(&records, &stack.stream_arn).expect("event");
    (records, event)
}

#[tokio::test]
async fn a_failing_send_is_reported_retried_and_recorded_once() {
    let (stack, bob, id) = alice_invited_someone(false, false).await;
    let (records, event) = stream_batch(&stack).await;
    let invitation_records: Vec<_> = records.iter().filter(|r| is_invitation_insert(r)).collect();
    assert_eq!(invitation_records.len(), 1);
    assert!(records.len() > 1, "the batch also holds unrelated records (user, org, membership)");
    let handle =
        || send_invitation_email::handle(&stack.mailer, LambdaEvent::new(event.clone(), Default::default()));

    // SES is down: exactly the invitation's record is reported, nothing is recorded.
    let response = handle().await.expect("handler");
    let failed: Vec<_> =
        response.batch_item_failures.iter().filter_map(|f| f.item_identifier.clone()).collect();
    assert_eq!(failed, vec![sequence_of(invitation_records[0])]);
    assert!(delivery_of(&stack, &id).await.is_none());
    assert!(emails_to(&bob).await.is_empty());

    // SES is back: the retry sends it and records the delivery.
    verify_sender(&stack).await;
    let response = handle().await.expect("handler");
    assert!(response.batch_item_failures.is_empty());
    let sent = emails_to(&bob).await;
    assert_eq!(sent.len(), 1);
    let delivery = delivery_of(&stack, &id).await.expect("delivery recorded");
    assert_eq!(delivery.message_id, sent[0].id);

    // The same batch again (redelivery): no second email, the one delivery stands.
    let response = handle().await.expect("handler");
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(emails_to(&bob).await.len(), 1);
    assert_eq!(delivery_of(&stack, &id).await, Some(delivery));
}

#[tokio::test]
async fn the_pump_retries_a_failed_send_until_ses_is_back() {
    let (stack, bob, id) = alice_invited_someone(false, true).await;

    // Wait until the pump has tried and failed: still no delivery, no email.
    eventually("a failed send", || async {
        (stack.pump_stats.failed_records.load(std::sync::atomic::Ordering::SeqCst) > 0).then_some(())
    })
    .await;
    assert!(emails_to(&bob).await.is_empty());
    assert!(delivery_of(&stack, &id).await.is_none());

    verify_sender(&stack).await;
    eventually("the retried delivery", || delivery_of(&stack, &id)).await;
    assert_eq!(emails_to(&bob).await.len(), 1);
}

#[tokio::test]
async fn an_answered_invitation_is_not_mailed() {
    let (stack, bob, id) = alice_invited_someone(true, false).await;
    let bob = register(&stack, &bob).await;
    let declined = post(&stack, &format!("/v1/invitations/{id}/decline"), &bob, serde_json::json!({})).await;
    assert_eq!(declined.status.as_u16(), 204);

    let (_, event) = stream_batch(&stack).await;
    let response = send_invitation_email::handle(&stack.mailer, LambdaEvent::new(event, Default::default()))
        .await
        .expect("handler");
    assert!(response.batch_item_failures.is_empty());
    assert!(emails_to(&bob.email).await.is_empty());
    assert!(delivery_of(&stack, &id).await.is_none());
}
