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
    use orgs::store::stream::{Change, Kind};
    let change =
        local_stack::pump::change_of(record, "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/s");
    matches!(change, Ok(Change::Invitation { kind: Kind::Insert, .. }))
}

/// SES as a test wants it.
#[derive(Clone, Copy, PartialEq)]
enum Ses {
    Up,
    /// Throttling every send: a transient failure.
    Down,
    /// The sender is not verified: SES rejects every message for good.
    Rejecting,
}

/// A stack with SES as given, with or without the background pump, where Alice has invited a
/// fresh address. Returns the stack, the address and the invitation id.
async fn alice_invited_someone(ses: Ses, pump: bool) -> (Stack, String, String) {
    let mut options = StackOptions::for_test();
    options.verify_sender = ses != Ses::Rejecting;
    options.pump = pump;
    let stack = stack_with(options).await;
    stack.ses.set_down(ses == Ses::Down);
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
    let (stack, bob, id) = alice_invited_someone(Ses::Down, false).await;
    let (records, event) = stream_batch(&stack).await;
    let invitation_records: Vec<_> = records.iter().filter(|r| is_invitation_insert(r)).collect();
    assert_eq!(invitation_records.len(), 1);
    assert!(records.len() > 1, "the batch also holds unrelated records (user, org, membership)");
    let handle = || {
        local_stack::identity::as_function(
            "send-invitation-email",
            send_invitation_email::handle(&stack.mailer, LambdaEvent::new(event.clone(), Default::default())),
        )
    };

    // SES is down: exactly the invitation's record is reported, nothing is recorded.
    let response = handle().await.expect("handler");
    let failed: Vec<_> =
        response.batch_item_failures.iter().filter_map(|f| f.item_identifier.clone()).collect();
    assert_eq!(failed, vec![sequence_of(invitation_records[0])]);
    assert!(delivery_of(&stack, &id).await.is_none());
    assert!(emails_to(&bob).await.is_empty());

    // SES is back: the retry sends it and records the delivery.
    stack.ses.set_down(false);
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
    let (stack, bob, id) = alice_invited_someone(Ses::Down, true).await;

    // Wait until the pump has tried and failed: still no delivery, no email.
    eventually("a failed send", || async {
        (stack.pump_stats.failed_records.load(std::sync::atomic::Ordering::SeqCst) > 0).then_some(())
    })
    .await;
    assert!(emails_to(&bob).await.is_empty());
    assert!(delivery_of(&stack, &id).await.is_none());

    stack.ses.set_down(false);
    eventually("the retried delivery", || delivery_of(&stack, &id)).await;
    assert_eq!(emails_to(&bob).await.len(), 1);
}

#[tokio::test]
pub(crate) async fn a_rejected_email_is_marked_undeliverable_for_the_inviter_and_not_retried() {
    let (stack, bob, id) = alice_invited_someone(Ses::Rejecting, false).await;
    let (_, event) = stream_batch(&stack).await;
    let handle = || {
        local_stack::identity::as_function(
            "send-invitation-email",
            send_invitation_email::handle(&stack.mailer, LambdaEvent::new(event.clone(), Default::default())),
        )
    };

    let response = handle().await.expect("handler");

    assert!(response.batch_item_failures.is_empty(), "a permanent rejection is not retried");
    assert!(emails_to(&bob).await.is_empty());
    let invitation = invitation_of(&stack, &id).await;
    let problem = invitation.mail_problem.expect("the rejection is recorded");
    assert_eq!(problem.kind, orgs::domain::MailProblemKind::Undeliverable);
    assert!(problem.reason.contains("not verified"), "SES's reason: {}", problem.reason);

    // The inviter sees it on the Members page.
    let page = stack
        .api
        .store
        .invitations_page(
            &invitation.org_id,
            Some(orgs::domain::InvitationStatus::Pending),
            &Default::default(),
            stack.api.now(),
        )
        .await
        .expect("page");
    let pending = page.items.iter().find(|p| p.email.as_str() == bob).expect("still pending");
    assert_eq!(pending.mail_status(), orgs::domain::MailStatus::Undeliverable);
    assert_eq!(pending.mail_problem.as_ref().map(|p| p.reason.as_str()), Some(problem.reason.as_str()));

    // The same batch again, even with SES healthy now: the verdict stands, nothing is sent.
    verify_sender(&stack).await;
    let response = handle().await.expect("handler");
    assert!(response.batch_item_failures.is_empty());
    assert!(emails_to(&bob).await.is_empty());
}

#[tokio::test]
async fn a_transient_failure_stops_the_batch_at_its_record_so_order_holds() {
    let stack = stack_with(StackOptions { pump: false, ..StackOptions::for_test() }).await;
    let alice = register(&stack, &email("alice")).await;
    let org = personal_org(&stack, &alice).await;
    let (first, second) = (email("first"), email("second"));
    invite(&stack, &alice, &org, &first).await;
    invite(&stack, &alice, &org, &second).await;
    let (records, event) = stream_batch(&stack).await;
    let first_invitation = records.iter().find(|r| is_invitation_insert(r)).expect("an invitation record");
    stack.ses.set_down(true);

    let response = local_stack::identity::as_function(
        "send-invitation-email",
        send_invitation_email::handle(&stack.mailer, LambdaEvent::new(event, Default::default())),
    )
    .await
    .expect("handler");

    let failed: Vec<_> =
        response.batch_item_failures.iter().filter_map(|f| f.item_identifier.clone()).collect();
    assert_eq!(failed, vec![sequence_of(first_invitation)], "only the first failure, nothing after it tried");
    assert!(emails_to(&first).await.is_empty() && emails_to(&second).await.is_empty());
}

#[tokio::test]
async fn an_answered_invitation_is_not_mailed() {
    let (stack, bob, id) = alice_invited_someone(Ses::Up, false).await;
    let bob = register(&stack, &bob).await;
    let declined = post(&stack, &format!("/v1/invitations/{id}/decline"), &bob, serde_json::json!({})).await;
    assert_eq!(declined.status.as_u16(), 204);

    let (_, event) = stream_batch(&stack).await;
    let response = local_stack::identity::as_function(
        "send-invitation-email",
        send_invitation_email::handle(&stack.mailer, LambdaEvent::new(event, Default::default())),
    )
    .await
    .expect("handler");
    assert!(response.batch_item_failures.is_empty());
    assert!(emails_to(&bob.email).await.is_empty());
    assert!(delivery_of(&stack, &id).await.is_none());
}

/// The SNS event SES's configuration set publishes for `event_type` about `invitation`.
fn ses_notification(
    event_type: &str,
    invitation: &str,
    detail: serde_json::Value,
) -> aws_lambda_events::sns::SnsEvent {
    let mut message = serde_json::json!({
        "eventType": event_type,
        "mail": {
            "timestamp": "2026-11-28T12:00:00.000Z",
            "source": "no-reply@orgs.test",
            "messageId": "0100017a-test-message",
            "destination": ["someone@example.com"],
            "tags": { "ses:configuration-set": ["orgs-invitations"], "invitation_id": [invitation] }
        }
    });
    if let (Some(message), Some(detail)) = (message.as_object_mut(), detail.as_object()) {
        message.extend(detail.clone());
    }
    serde_json::from_value(serde_json::json!({ "Records": [{
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:orgs-mail-feedback:sub",
        "Sns": {
            "Type": "Notification",
            "MessageId": uuid::Uuid::new_v4().to_string(),
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:orgs-mail-feedback",
            "Message": message.to_string(),
            "Timestamp": "2026-11-28T12:00:05.123Z",
            "SignatureVersion": "1",
            "Signature": "EXAMPLE",
            "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/cert.pem",
            "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
            "MessageAttributes": {}
        }
    }]}))
    .expect("SNS event")
}

async fn feed(stack: &Stack, event: aws_lambda_events::sns::SnsEvent) -> Vec<record_mail_feedback::Outcome> {
    local_stack::identity::as_function(
        "record-mail-feedback",
        record_mail_feedback::handle(&stack.feedback, LambdaEvent::new(event, Default::default())),
    )
    .await
    .expect("the feedback handler")
}

#[tokio::test]
pub(crate) async fn a_bounce_and_a_complaint_reach_the_inviter_and_a_soft_bounce_does_not() {
    use orgs::domain::MailProblemKind;
    let stack = stack().await;
    let alice = register(&stack, &email("alice")).await;
    let org = personal_org(&stack, &alice).await;
    let (bounced, complained, soft) = (email("bounced"), email("complained"), email("soft"));
    let bounced_id = invite(&stack, &alice, &org, &bounced).await;
    let complained_id = invite(&stack, &alice, &org, &complained).await;
    let soft_id = invite(&stack, &alice, &org, &soft).await;
    for (id, to) in [(&bounced_id, &bounced), (&complained_id, &complained), (&soft_id, &soft)] {
        mailed_once(&stack, id, to).await;
    }

    let hard = serde_json::json!({ "bounce": { "bounceType": "Permanent", "bounceSubType": "General",
        "bouncedRecipients": [{ "emailAddress": bounced, "diagnosticCode": "smtp; 550 5.1.1 user unknown" }] } });
    let complaint =
        serde_json::json!({ "complaint": { "complaintFeedbackType": "abuse", "complainedRecipients": [] } });
    let transient = serde_json::json!({ "bounce": { "bounceType": "Transient", "bounceSubType": "MailboxFull",
        "bouncedRecipients": [{ "emailAddress": soft }] } });
    use record_mail_feedback::Outcome;
    assert_eq!(
        feed(&stack, ses_notification("Bounce", &bounced_id, hard.clone())).await,
        vec![Outcome::Recorded(MailProblemKind::Bounced)]
    );
    assert_eq!(
        feed(&stack, ses_notification("Complaint", &complained_id, complaint)).await,
        vec![Outcome::Recorded(MailProblemKind::Complained)]
    );
    assert_eq!(feed(&stack, ses_notification("Bounce", &soft_id, transient)).await, vec![Outcome::Ignored]);
    // SNS delivers at least once: the same bounce again changes nothing.
    assert_eq!(feed(&stack, ses_notification("Bounce", &bounced_id, hard)).await, vec![Outcome::Ignored]);

    let pending = get(&stack, &format!("/v1/organizations/{org}/invitations?status=pending"), &alice).await;
    let status_of = |to: &str| {
        let invitations = pending.body["invitations"].as_array().expect("invitations");
        let found = invitations.iter().find(|i| i["email"] == to).expect("listed");
        (found["mail"].clone(), found["mail_problem"].clone())
    };
    assert_eq!(
        status_of(&bounced),
        (serde_json::json!("bounced"), serde_json::json!("smtp; 550 5.1.1 user unknown"))
    );
    assert_eq!(
        status_of(&complained),
        (serde_json::json!("complained"), serde_json::json!("marked as abuse"))
    );
    assert_eq!(status_of(&soft).0, serde_json::json!("sent"));
    assert_eq!(
        invitation_of(&stack, &bounced_id).await.mail_problem.map(|p| p.kind),
        Some(MailProblemKind::Bounced)
    );
}
