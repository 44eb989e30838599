//! The invitation mailer under failure and redelivery, fed the table's real stream records in
//! Lambda's event shape.

use aws_sdk_dynamodbstreams::types::Record;
use lambda_runtime::LambdaEvent;
use local_stack::StackOptions;
use local_stack::pump::{lambda_event, read_batch};
use orgs::domain::InvitationId;

use crate::support::*;

fn sequence_of(record: &Record) -> String {
    record
        .dynamodb
        .as_ref()
        .and_then(|d| d.sequence_number.clone())
        .expect("sequence number")
}

fn is_invitation_insert(record: &Record) -> bool {
    let image = record.dynamodb.as_ref().and_then(|d| d.new_image.as_ref());
    record.event_name.as_ref().map(|n| n.as_str()) == Some("INSERT")
        && image
            .and_then(|i| i.get("entity"))
            .and_then(|v| v.as_s().ok())
            .map(String::as_str)
            == Some("invitation")
}

#[tokio::test]
async fn a_failing_send_is_reported_retried_and_recorded_once() {
    let mut options = StackOptions::for_test();
    options.pump = false;
    options.verify_sender = false; // SES refuses unverified senders: our outage
    let stack = stack_with(options).await;
    let alice = register(&stack, &email("alice")).await;
    let org = personal_org(&stack, &alice).await;
    let bob = email("bob");
    let id = invite(&stack, &alice, &org, &bob).await;

    let records = read_batch(&stack.streams, &stack.stream_arn, 100)
        .await
        .expect("stream");
    let invitation_records: Vec<_> = records.iter().filter(|r| is_invitation_insert(r)).collect();
    assert_eq!(invitation_records.len(), 1);
    assert!(
        records.len() > 1,
        "the batch also holds unrelated records (user, org, membership)"
    );
    let batch = || {
        LambdaEvent::new(
            lambda_event(&records, &stack.stream_arn).expect("event"),
            Default::default(),
        )
    };

    // SES is down: exactly the invitation's record is reported, nothing is recorded.
    let response = send_invitation_email::handle(&stack.mailer, batch())
        .await
        .expect("handler");
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .filter_map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(failed, vec![sequence_of(invitation_records[0])]);
    let invitation_id = InvitationId::parse(&id).expect("uuid");
    assert!(
        stack
            .api
            .store
            .invitation(&invitation_id)
            .await
            .expect("read")
            .expect("exists")
            .delivery
            .is_none()
    );
    assert!(emails_to(&bob).await.is_empty());

    // SES is back: the retry sends it and records the delivery.
    let ses = aws_sdk_ses::Client::new(&emulator().await.sdk_config().await);
    ses.verify_email_identity()
        .email_address(&stack.options.sender)
        .send()
        .await
        .expect("verify sender");
    let response = send_invitation_email::handle(&stack.mailer, batch())
        .await
        .expect("handler");
    assert!(response.batch_item_failures.is_empty());
    let sent = emails_to(&bob).await;
    assert_eq!(sent.len(), 1);
    let delivery = stack
        .api
        .store
        .invitation(&invitation_id)
        .await
        .expect("read")
        .expect("exists")
        .delivery
        .expect("recorded");
    assert_eq!(delivery.message_id, sent[0].id);

    // The same batch again (redelivery): no second email, the one delivery stands.
    let response = send_invitation_email::handle(&stack.mailer, batch())
        .await
        .expect("handler");
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(emails_to(&bob).await.len(), 1);
    let again = stack
        .api
        .store
        .invitation(&invitation_id)
        .await
        .expect("read")
        .expect("exists")
        .delivery
        .expect("recorded");
    assert_eq!(again, delivery);
}

#[tokio::test]
async fn the_pump_retries_a_failed_send_until_ses_is_back() {
    let mut options = StackOptions::for_test();
    options.verify_sender = false;
    let stack = stack_with(options).await;
    let alice = register(&stack, &email("alice")).await;
    let org = personal_org(&stack, &alice).await;
    let bob = email("bob");
    let id = invite(&stack, &alice, &org, &bob).await;
    let invitation_id = InvitationId::parse(&id).expect("uuid");

    // Wait until the pump has tried and failed: still no delivery, no email.
    eventually("a failed send", || async {
        (stack
            .pump_stats
            .failed_records
            .load(std::sync::atomic::Ordering::SeqCst)
            > 0)
        .then_some(())
    })
    .await;
    assert!(emails_to(&bob).await.is_empty());
    assert!(
        stack
            .api
            .store
            .invitation(&invitation_id)
            .await
            .expect("read")
            .expect("exists")
            .delivery
            .is_none()
    );

    let ses = aws_sdk_ses::Client::new(&emulator().await.sdk_config().await);
    ses.verify_email_identity()
        .email_address(&stack.options.sender)
        .send()
        .await
        .expect("verify sender");
    eventually("the retried delivery", || async {
        stack
            .api
            .store
            .invitation(&invitation_id)
            .await
            .expect("read")
            .and_then(|i| i.delivery)
    })
    .await;
    assert_eq!(emails_to(&bob).await.len(), 1);
}

#[tokio::test]
async fn an_answered_invitation_is_not_mailed() {
    let mut options = StackOptions::for_test();
    options.pump = false;
    let stack = stack_with(options).await;
    let alice = register(&stack, &email("alice")).await;
    let org = personal_org(&stack, &alice).await;
    let bob = register(&stack, &email("bob")).await;
    let id = invite(&stack, &alice, &org, &bob.email).await;
    let declined = post(
        &stack,
        &format!("/v1/invitations/{id}/decline"),
        &bob,
        serde_json::json!({}),
    )
    .await;
    assert_eq!(declined.status.as_u16(), 204);

    let records = read_batch(&stack.streams, &stack.stream_arn, 100)
        .await
        .expect("stream");
    let event = LambdaEvent::new(
        lambda_event(&records, &stack.stream_arn).expect("event"),
        Default::default(),
    );
    let response = send_invitation_email::handle(&stack.mailer, event)
        .await
        .expect("handler");
    assert!(response.batch_item_failures.is_empty());
    assert!(emails_to(&bob.email).await.is_empty());
}
