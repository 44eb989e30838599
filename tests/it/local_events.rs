//! `cargo xtask event <function> --as <email>`: every generated event, run through its function's
//! handler on a running stack, succeeds — what `cargo lambda invoke` with the same file does.

use lambda_http::{Body, Response};
use lambda_runtime::LambdaEvent;
use local_stack::events::functions;
use orgs::domain::{Email, MailProblemKind};

use crate::support::*;

fn status_and_body(response: Response<Body>) -> (u16, String) {
    (response.status().as_u16(), String::from_utf8_lossy(response.body().as_ref()).into_owned())
}

#[tokio::test]
pub(crate) async fn every_generated_event_succeeds_through_its_function() {
    let stack = stack().await;
    let sdk = emulator().await.sdk_config().await;
    let context = stack.event_context(&sdk);
    let caller = Email::parse(&email("dev")).expect("email");

    for function in functions() {
        let event =
            Box::pin(context.event(function, &caller)).await.unwrap_or_else(|e| panic!("{function}: {e}"));
        let text = event.to_string();
        let request = || lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{function}: {e}"));
        let answer = match function {
            "register-user" => {
                let event = serde_json::from_value(event).expect("PostConfirmation");
                local_stack::identity::as_function(
                    "register-user",
                    register_user::handle(&stack.registrar, LambdaEvent::new(event, Default::default())),
                )
                .await
                .map(|_| (200, String::new()))
            }
            "grant-credits" => {
                let event = serde_json::from_value(event).expect("a grant");
                let granted = local_stack::identity::as_function(
                    "grant-credits",
                    grant_credits::handle(&stack.granter, LambdaEvent::new(event, Default::default())),
                )
                .await
                .expect("granted");
                assert!(granted.credits.granted.as_f64() >= 50.0, "{granted:?}");
                continue;
            }
            "deliver-webhooks" => {
                let event = serde_json::from_value(event).expect("scheduled event");
                local_stack::identity::as_function(
                    "deliver-webhooks",
                    deliver_webhooks::handle(&stack.deliverer, LambdaEvent::new(event, Default::default())),
                )
                .await
                .expect("delivered");
                continue;
            }
            "reconcile-clusters" => {
                let event = serde_json::from_value(event).expect("scheduled event");
                let report = local_stack::identity::as_function(
                    "reconcile-clusters",
                    reconcile_clusters::handle(
                        &stack.reconciler,
                        LambdaEvent::new(event, Default::default()),
                    ),
                )
                .await
                .expect("reconciled");
                assert_eq!(report.unreachable, 0, "{report:?}");
                continue;
            }
            // The followers' own samples (a rename, a membership, a cluster) and the reader's, which
            // holds one of each: every one goes through the table's ordered reader.
            "sync-organization-name"
            | "sync-cluster-users"
            | "provision-cluster"
            | "dispatch-table-stream" => {
                let event = serde_json::from_value(event).expect("stream event");
                let response = local_stack::identity::as_function(
                    "dispatch-table-stream",
                    dispatch_table_stream::handle(
                        &stack.followers,
                        LambdaEvent::new(event, Default::default()),
                    ),
                )
                .await
                .expect("followers");
                assert!(response.batch_item_failures.is_empty());
                continue;
            }
            "get-openapi" => {
                let document = get_openapi::Document::build().expect("the document");
                let (status, body) =
                    status_and_body(get_openapi::handle(&document, request()).await.expect("answer"));
                assert_eq!(status, 200, "{body}");
                let document: serde_json::Value = serde_json::from_str(&body).expect("JSON");
                assert_eq!(document["openapi"], "3.1.0");
                continue;
            }
            "route-not-found" => {
                // Its whole job is the problem+json 404 for a path the API does not have.
                let (status, body) =
                    status_and_body(route_not_found::handle(request()).await.expect("answer"));
                assert_eq!(status, 404, "{body}");
                assert!(body.contains("/problems/not_found"), "{body}");
                continue;
            }
            "send-invitation-email" => {
                let to = event["Records"][0]["dynamodb"]["NewImage"]["email"]["S"]
                    .as_str()
                    .expect("the invitation's address")
                    .to_owned();
                let before = emails_to(&to).await.len();
                let event = serde_json::from_value(event).expect("stream event");
                let response = local_stack::identity::as_function(
                    "send-invitation-email",
                    send_invitation_email::handle(&stack.mailer, LambdaEvent::new(event, Default::default())),
                )
                .await
                .expect("mailer");
                assert!(response.batch_item_failures.is_empty());
                assert_eq!(emails_to(&to).await.len(), before + 1, "invoking the mailer sends the email");
                continue;
            }
            "record-mail-feedback" => {
                let event = serde_json::from_value(event).expect("SNS event");
                let outcomes = local_stack::identity::as_function(
                    "record-mail-feedback",
                    record_mail_feedback::handle(
                        &stack.feedback,
                        LambdaEvent::new(event, Default::default()),
                    ),
                )
                .await
                .expect("feedback");
                assert_eq!(outcomes, vec![record_mail_feedback::Outcome::Recorded(MailProblemKind::Bounced)]);
                continue;
            }
            // Every route's function, through the local router's own dispatch.
            routed if orgs::routes::ROUTES.iter().any(|r| r.function == routed) => {
                local_stack::router::invoke(&stack.functions, routed, request()).await.map(status_and_body)
            }
            other => panic!("no handler wired for {other}"),
        };
        let (status, body) = answer.unwrap_or_else(|e| panic!("{function}: {e}"));
        assert!((200..300).contains(&status), "{function} answered {status}: {body}");
    }

    // Invoked, the transfer handed the caller's organization away; generated again, it still works.
    let again = context.event("transfer-ownership", &caller).await.expect("generated again");
    let request = lambda_http::request::from_str(&again.to_string()).expect("request");
    let (status, body) =
        status_and_body(transfer_ownership::handle(&stack.api, request).await.expect("answer"));
    assert_eq!(status, 200, "{body}");
}

/// The env file `cargo xtask dev` writes for `cargo lambda watch` holds everything any function
/// reads at start: a function missing a variable would exit before answering anything.
#[tokio::test]
async fn the_generated_env_file_configures_every_function() {
    struct File(std::collections::HashMap<String, String>);
    impl orgs::config::Source for File {
        fn get(&self, name: &str) -> Option<String> {
            self.0.get(name).cloned()
        }
    }
    let stack = stack().await;
    let text = stack.env_file(&emulator().await.endpoint);
    let file = File(
        text.lines().filter_map(|l| l.split_once('=')).map(|(k, v)| (k.to_owned(), v.to_owned())).collect(),
    );
    // What each kind of function's `from_env` reads (see their `main`s).
    orgs::aws::sdk_config(&file).expect("the SDK's region and credentials");
    orgs::config::table_name(&file).expect("the table");
    orgs::config::AuthConfig::from_source(&file).expect("the token verifier");
    orgs::config::Limits::from_source(&file).expect("the limits");
    orgs::config::Pricing::from_source(&file).expect("the pricing");
    orgs::config::MailerConfig::from_source(&file).expect("the mailer");
    orgs::config::cluster_image_id(&file).expect("the provisioner's and reconciler's image");
    let service =
        orgs::config::service_identity(&file).expect("get-cloud-account's and configure-account's identity");
    assert_eq!(service, *stack.service);
}

/// Every deployed function's real binary (its `main`, as `cargo lambda watch` and Lambda run it)
/// starts from the env file the dev stack writes and answers its generated event: a variable its
/// configuration needs, or wiring its `main` gets wrong, fails here rather than for a newcomer.
/// `cargo xtask test` builds the binaries first.
#[tokio::test]
async fn every_function_binary_starts_from_the_env_file_and_answers_its_event() {
    let stack =
        stack_with(local_stack::StackOptions { pump: false, ..local_stack::StackOptions::for_test() }).await;
    let endpoint = &emulator().await.endpoint;
    let env: Vec<(String, String)> = stack
        .env_file(endpoint)
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect();
    let sdk = emulator().await.sdk_config().await;
    let context = stack.event_context(&sdk);
    let caller = Email::parse(&email("binary")).expect("email");
    let bin_dir = local_stack::emulator::workspace_root().join("target").join("debug");
    for function in functions().into_iter().filter(|f| local_stack::events::invoked_by(f) == *f) {
        let binary = bin_dir.join(function);
        assert!(
            binary.exists(),
            "{} is missing: `cargo xtask test` builds the functions' binaries (or `cargo build --workspace --bins`)",
            binary.display()
        );
        let event =
            Box::pin(context.event(function, &caller)).await.unwrap_or_else(|e| panic!("{function}: {e}"));
        let answer = local_stack::bench::invoke_binary(&binary, function, &event, &env)
            .await
            .unwrap_or_else(|e| panic!("{function}: {e}"));
        match answer {
            Some(Ok(response)) => {
                if let Some(status) = response.get("statusCode").and_then(serde_json::Value::as_u64) {
                    assert!(status < 500, "{function} answered {status}: {response}");
                }
                if let Some(failures) = response.get("batchItemFailures") {
                    assert_eq!(failures, &serde_json::json!([]), "{function}: {response}");
                }
            }
            Some(Err(error)) => panic!("{function} reported an error: {error}"),
            None => panic!(
                "{function} exited at start without a word, or hung: run its binary with the env file to see why"
            ),
        }
    }
}
