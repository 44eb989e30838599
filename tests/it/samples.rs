//! What must not drift: the sample events against the types the functions take, and the SAM
//! template against the table, routes and functions the code defines.

use std::collections::BTreeSet;

use aws_lambda_events::cognito::CognitoEventUserPoolsPostConfirmation;
use local_stack::emulator::workspace_root;
use orgs::contract::openapi::Caller;
use orgs::routes::{FALLBACK_FUNCTION, ROUTES};
use serde_yaml_ng::Value;

fn template() -> Value {
    let text =
        std::fs::read_to_string(workspace_root().join("infra/template.yaml")).expect("infra/template.yaml");
    serde_yaml_ng::from_str(&text).expect("template parses")
}

fn function_crates() -> BTreeSet<String> {
    std::fs::read_dir(workspace_root().join("functions"))
        .expect("functions/")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("Cargo.toml").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// The crates that build a Lambda binary (the others are libraries a function calls).
fn deployed_functions() -> BTreeSet<String> {
    function_crates()
        .into_iter()
        .filter(|name| workspace_root().join("functions").join(name).join("src/main.rs").exists())
        .collect()
}

#[test]
fn every_function_has_a_sample_event_its_handler_accepts() {
    let functions = function_crates();
    // Every crate is a function, or a library the table's ordered reader calls.
    let libraries: BTreeSet<String> = functions.difference(&deployed_functions()).cloned().collect();
    let followers: BTreeSet<String> =
        functions.iter().filter(|f| local_stack::events::invoked_by(f) != f.as_str()).cloned().collect();
    assert_eq!(libraries, followers, "the crates without a main are dispatch-table-stream's libraries");
    // Every crate is generated an event for, and nothing else.
    let generated: BTreeSet<String> =
        local_stack::events::functions().into_iter().map(str::to_owned).collect();
    assert_eq!(generated, functions, "the functions `cargo xtask event` knows are the crates");
    // `events/` holds the samples no row renders (and `http.json`, what every route's is made
    // from): a routed function's sample is its row's.
    let samples: BTreeSet<String> = std::fs::read_dir(workspace_root().join("events"))
        .expect("events/")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().trim_end_matches(".json").to_owned())
        .collect();
    let mut files: BTreeSet<String> =
        functions.iter().filter(|f| local_stack::events::sampled_operation(f).is_none()).cloned().collect();
    files.insert("http".to_owned());
    assert_eq!(samples, files, "one sample per function no row renders, named after it, and http.json");

    for function in &functions {
        let text = local_stack::events::offline_sample(function).expect("sample").to_string();
        match function.as_str() {
            "register-user" => {
                let event: CognitoEventUserPoolsPostConfirmation =
                    serde_json::from_str(&text).expect(function);
                assert!(
                    event.request.user_attributes.contains_key("sub")
                        && event.request.user_attributes.contains_key("email")
                );
            }
            "send-invitation-email" => {
                let event: aws_lambda_events::dynamodb::Event = serde_json::from_str(&text).expect(function);
                assert_eq!(event.records[0].event_name, "INSERT");
                assert!(event.records[0].change.sequence_number.is_some());
            }
            "grant-credits" => {
                let grant: grant_credits::Grant = serde_json::from_str(&text).expect(function);
                assert!(grant.credits > 0.0 && !grant.operator.is_empty() && !grant.reason.is_empty());
            }
            "reconcile-clusters" | "deliver-webhooks" => {
                let event: serde_json::Value = serde_json::from_str(&text).expect(function);
                assert_eq!(event["detail-type"], "Scheduled Event");
            }
            "provision-cluster" => {
                let event: aws_lambda_events::dynamodb::Event = serde_json::from_str(&text).expect(function);
                assert!(provision_cluster::is_state_change(&decoded(&event)[0]), "a new cluster");
            }
            "sync-cluster-users" => {
                let event: aws_lambda_events::dynamodb::Event = serde_json::from_str(&text).expect(function);
                assert!(sync_cluster_users::target(&decoded(&event)[0]).is_some(), "a membership");
            }
            "sync-organization-name" => {
                let event: aws_lambda_events::dynamodb::Event = serde_json::from_str(&text).expect(function);
                assert!(sync_organization_name::renamed(&decoded(&event)[0]).is_some(), "a rename");
            }
            "dispatch-table-stream" => {
                let event: aws_lambda_events::dynamodb::Event = serde_json::from_str(&text).expect(function);
                let changes = decoded(&event);
                assert!(changes.iter().any(|c| sync_organization_name::renamed(c).is_some()), "a rename");
                assert!(changes.iter().any(|c| sync_cluster_users::target(c).is_some()), "a membership");
                assert!(changes.iter().any(provision_cluster::is_state_change), "a new cluster");
            }
            "record-mail-feedback" => {
                let event: aws_lambda_events::sns::SnsEvent = serde_json::from_str(&text).expect(function);
                let message: serde_json::Value =
                    serde_json::from_str(&event.records[0].sns.message).expect("an SES notification");
                assert_eq!(message["eventType"], "Bounce");
                assert!(message["mail"]["tags"][orgs::mail::INVITATION_TAG][0].is_string());
            }
            http_function => {
                let event: aws_lambda_events::apigw::ApiGatewayV2httpRequest =
                    serde_json::from_str(&text).expect(function);
                lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{function}: {e}"));
                let route_key = event.route_key.expect("routeKey");
                if http_function == FALLBACK_FUNCTION {
                    assert_eq!(route_key, "$default");
                } else {
                    // The function's route that its row marks sampled, or its first, with each path
                    // parameter and the example body.
                    let op = local_stack::events::sampled_operation(http_function).expect("a row");
                    assert_eq!(route_key, format!("{} {}", op.method, op.path), "{function}");
                    assert!(ROUTES.iter().any(|r| r.function == http_function && r.path == op.path));
                    let params = event.path_parameters;
                    let names: Vec<&str> =
                        op.path.split('/').filter_map(|s| s.strip_prefix('{')?.strip_suffix('}')).collect();
                    assert_eq!(params.len(), names.len(), "{function}: {params:?}");
                    let mut path = op.path.to_owned();
                    for name in names {
                        path = path.replace(&format!("{{{name}}}"), &params[name]);
                    }
                    assert_eq!(event.raw_path.as_deref(), Some(path.as_str()), "{function}");
                    let body: Option<serde_json::Value> =
                        event.body.map(|b| serde_json::from_str(&b).expect("a JSON body"));
                    let example: Option<serde_json::Value> =
                        op.example.map(|e| serde_json::from_str(e).expect("a JSON example"));
                    assert_eq!(body, example, "{function}: the example is the body");
                }
            }
        }
    }
}

#[test]
fn the_template_declares_the_table_the_code_uses() {
    let template = template();
    let table = &template["Resources"]["Table"]["Properties"];
    let definition = local_stack::table::definition();

    let keys: Vec<(String, String)> = table["KeySchema"]
        .as_sequence()
        .expect("KeySchema")
        .iter()
        .map(|k| {
            (
                k["AttributeName"].as_str().unwrap_or("").to_owned(),
                k["KeyType"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = definition
        .key_schema
        .iter()
        .map(|(name, kind)| (name.to_string(), kind.as_str().to_owned()))
        .collect();
    assert_eq!(keys, expected);

    let attributes: BTreeSet<&str> = table["AttributeDefinitions"]
        .as_sequence()
        .expect("attrs")
        .iter()
        .filter_map(|a| a["AttributeName"].as_str())
        .collect();
    assert_eq!(attributes, definition.attributes.iter().copied().collect());

    let gsis = table["GlobalSecondaryIndexes"].as_sequence().expect("GSIs");
    assert_eq!(gsis.len(), definition.gsis.len(), "the same number of GSIs");
    for (gsi, (index, pk, sk)) in gsis.iter().zip(&definition.gsis) {
        assert_eq!(gsi["IndexName"].as_str(), Some(*index));
        assert_eq!(gsi["KeySchema"][0]["AttributeName"].as_str(), Some(*pk));
        assert_eq!(gsi["KeySchema"][1]["AttributeName"].as_str(), Some(*sk));
        assert_eq!(gsi["Projection"]["ProjectionType"].as_str(), Some("ALL"));
    }

    assert_eq!(
        table["StreamSpecification"]["StreamViewType"].as_str(),
        Some(definition.stream_view.as_str())
    );
    assert_eq!(table["TimeToLiveSpecification"]["AttributeName"].as_str(), Some(definition.ttl_attribute));
    assert_eq!(table["TimeToLiveSpecification"]["Enabled"].as_bool(), Some(true));
    assert_eq!(table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"].as_bool(), Some(true));
}

#[test]
fn the_template_routes_every_operation_to_its_function() {
    let template = template();
    let resources = template["Resources"].as_mapping().expect("Resources");
    let mut binaries = BTreeSet::new();
    let mut routes = BTreeSet::new();
    let mut unguarded = BTreeSet::new();
    for (_, resource) in resources {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let binary = resource["Metadata"]["BuildProperties"]["Binary"].as_str().expect("Binary").to_owned();
        assert_eq!(resource["Metadata"]["BuildMethod"].as_str(), Some("rust-cargolambda"), "{binary}");
        if let Some(events) = resource["Properties"]["Events"].as_mapping() {
            for (_, event) in events {
                if event["Type"].as_str() == Some("HttpApi") {
                    let props = &event["Properties"];
                    let route = (
                        props["Method"].as_str().unwrap_or("").to_owned(),
                        props["Path"].as_str().unwrap_or("").to_owned(),
                        binary.clone(),
                    );
                    if props["Auth"]["Authorizer"].as_str() == Some("NONE") {
                        unguarded.insert(route.clone());
                    }
                    routes.insert(route);
                }
            }
        }
        binaries.insert(binary);
    }
    assert_eq!(binaries, deployed_functions(), "every function binary is deployed, and nothing else");
    let mut expected: BTreeSet<(String, String, String)> =
        ROUTES.iter().map(|r| (r.method.to_owned(), r.path.to_owned(), r.function.to_owned())).collect();
    expected.insert(("ANY".into(), "$default".into(), FALLBACK_FUNCTION.into()));
    assert_eq!(routes, expected);
    // API Gateway's JWT authorizer guards the routes for people only. It cannot read an API key
    // or a node's credential, so the routes that take them (and the public ones) go without it,
    // and their functions verify every bearer themselves (`Api::principal`).
    let mut without_authorizer: BTreeSet<(String, String, String)> = orgs::routes::OPERATIONS
        .iter()
        .filter(|op| op.caller != Caller::User)
        .map(|op| (op.method.to_owned(), op.path.to_owned(), op.function.to_owned()))
        .collect();
    without_authorizer.insert(("ANY".into(), "$default".into(), FALLBACK_FUNCTION.into()));
    assert_eq!(unguarded, without_authorizer, "the routes API Gateway's JWT authorizer does not guard");
}

/// The resource a `!Ref` names.
fn reference(value: &Value) -> Option<&str> {
    match value {
        Value::Tagged(tagged) if tagged.tag == "Ref" => tagged.value.as_str(),
        _ => None,
    }
}

#[test]
fn the_template_keeps_logs_alarms_and_mail_as_production_needs() {
    let template = template();
    let resources = template["Resources"].as_mapping().expect("Resources");
    let of_type = |kind: &str| -> Vec<(&Value, &Value)> {
        resources.iter().filter(|(_, r)| r["Type"].as_str() == Some(kind)).collect()
    };

    // Every function logs to a group of its own with a retention.
    for (name, function) in of_type("AWS::Serverless::Function") {
        let group = reference(&function["Properties"]["LoggingConfig"]["LogGroup"]).expect("a log group");
        let retention = &template["Resources"][group]["Properties"]["RetentionInDays"];
        assert_eq!(reference(retention), Some("LogRetentionDays"), "{name:?}");
    }

    // The alarms a person on call needs, all to the topic given as a parameter.
    let alarms: BTreeSet<String> = of_type("AWS::CloudWatch::Alarm")
        .iter()
        .chain(&of_type("AWS::CloudWatch::CompositeAlarm"))
        .map(|(n, _)| n.as_str().unwrap_or("").to_owned())
        .collect();
    for alarm in ["MailerIteratorAgeAlarm", "FailureQueueAlarm", "FunctionErrorsAlarm", "Api5xxAlarm"] {
        assert!(alarms.contains(alarm), "{alarm} missing from {alarms:?}");
        let actions = &template["Resources"][alarm]["Properties"]["AlarmActions"];
        assert_eq!(reference(&actions[0]), Some("AlarmTopicArn"), "{alarm}");
    }
    // Every function's errors are watched, by metric alarms of at most 10 metrics each (CloudWatch's
    // hard limit for metric math), all named in the composite alarm that notifies.
    let rule = match &template["Resources"]["FunctionErrorsAlarm"]["Properties"]["AlarmRule"] {
        Value::Tagged(tagged) if tagged.tag == "Sub" => tagged.value.as_str().unwrap_or("").to_owned(),
        other => panic!("the rule is a !Sub of the group alarms' names, not {other:?}"),
    };
    let mut watched = BTreeSet::new();
    for (name, alarm) in of_type("AWS::CloudWatch::Alarm") {
        let name = name.as_str().unwrap_or("");
        let Some(metrics) = alarm["Properties"]["Metrics"].as_sequence() else { continue };
        let functions: Vec<&str> = metrics
            .iter()
            .filter(|m| m["MetricStat"]["Metric"]["MetricName"].as_str() == Some("Errors"))
            .filter_map(|m| reference(&m["MetricStat"]["Metric"]["Dimensions"][0]["Value"]))
            .collect();
        if functions.is_empty() {
            continue;
        }
        assert!(metrics.iter().filter(|m| !m["MetricStat"].is_null()).count() <= 10, "{name}");
        assert!(rule.contains(&format!("ALARM(\"${{{name}}}\")")), "{name} is not in the rule {rule}");
        watched.extend(functions);
    }
    assert_eq!(
        watched.len(),
        deployed_functions().len(),
        "the errors alarms watch every function: {watched:?}"
    );

    // Mail: Cognito sends through SES, the mailer's concurrency is bounded, and SES feedback
    // reaches the feedback function.
    let pool = &template["Resources"]["UserPool"]["Properties"]["EmailConfiguration"];
    assert_eq!(pool["EmailSendingAccount"].as_str(), Some("DEVELOPER"));
    // One person is one account whatever the letter case of their address.
    let usernames = &template["Resources"]["UserPool"]["Properties"]["UsernameConfiguration"];
    assert_eq!(usernames["CaseSensitive"].as_bool(), Some(false));
    let mailer = &template["Resources"]["SendInvitationEmailFunction"]["Properties"];
    assert!(mailer["ReservedConcurrentExecutions"].as_u64().is_some_and(|n| n >= 1));
    assert!(reference(&mailer["Environment"]["Variables"]["SES_CONFIGURATION_SET"]).is_some());
    let feedback = &template["Resources"]["RecordMailFeedbackFunction"]["Properties"]["Events"]["Feedback"];
    assert_eq!(feedback["Type"].as_str(), Some("SNS"));
    let destination = &template["Resources"]["MailFeedbackDestination"]["Properties"]["EventDestination"];
    assert_eq!(
        reference(&destination["SnsDestination"]["TopicARN"]),
        reference(&feedback["Properties"]["Topic"])
    );

    // The JWT settings live once, in Globals, and the invitation route has its own throttle.
    let globals = &template["Globals"]["Function"]["Environment"]["Variables"];
    assert!(
        !globals["JWT_ISSUER"].is_null() && reference(&globals["JWT_CLIENT_ID"]) == Some("UserPoolClient")
    );
    let route = &template["Resources"]["HttpApi"]["Properties"]["RouteSettings"]["POST /v1/organizations/{org_id}/invitations"];
    let default = &template["Resources"]["HttpApi"]["Properties"]["DefaultRouteSettings"];
    assert!(route["ThrottlingRateLimit"].as_u64() < default["ThrottlingRateLimit"].as_u64());
}

#[test]
fn the_dashboards_origin_may_call_every_method_the_api_routes() {
    let template = template();
    let cors = &template["Resources"]["HttpApi"]["Properties"]["CorsConfiguration"];
    let allowed: BTreeSet<&str> =
        cors["AllowMethods"].as_sequence().expect("AllowMethods").iter().filter_map(Value::as_str).collect();
    let routed: BTreeSet<&str> = ROUTES.iter().map(|r| r.method).collect();
    let missing: Vec<_> = routed.difference(&allowed).collect();
    assert!(missing.is_empty(), "the browser's preflight would refuse {missing:?}");
    let origins = cors["AllowOrigins"].as_sequence().expect("AllowOrigins");
    assert_eq!(origins.len(), 1, "exactly one origin: the dashboard's");
    // That origin is the distribution's (or the custom domain on it), the same one the invitation
    // emails link to, Cognito returns tokens to, and the stack reports.
    let origin = &origins[0];
    assert!(serde_yaml_ng::to_string(origin).expect("yaml").contains("DashboardDistribution.DomainName"));
    let resources = &template["Resources"];
    assert_eq!(
        &resources["SendInvitationEmailFunction"]["Properties"]["Environment"]["Variables"]["DASHBOARD_URL"],
        origin
    );
    assert_eq!(&template["Outputs"]["DashboardUrl"]["Value"], origin);
    let client = &resources["UserPoolClient"]["Properties"];
    assert_eq!(client["AllowedOAuthFlows"].as_sequence().map(Vec::len), Some(1), "the code flow only");
    assert_eq!(client["AllowedOAuthFlows"][0].as_str(), Some("code"));
    assert_eq!(client["GenerateSecret"].as_bool(), Some(false), "a browser keeps no secret: PKCE instead");
    let callback = serde_yaml_ng::to_string(&client["CallbackURLs"]).expect("yaml");
    assert!(callback.contains("DashboardDistribution.DomainName"), "{callback}");

    // The local router answers as API Gateway does with this configuration.
    let strings = |key: &str| -> Vec<String> {
        cors[key].as_sequence().expect(key).iter().filter_map(Value::as_str).map(str::to_owned).collect()
    };
    assert_eq!(strings("AllowMethods"), local_stack::router::CORS_ALLOW_METHODS);
    assert_eq!(strings("AllowHeaders"), local_stack::router::CORS_ALLOW_HEADERS);
    assert_eq!(cors["MaxAge"].as_u64(), Some(u64::from(local_stack::router::CORS_MAX_AGE)));
}

/// AWS throttles a DynamoDB stream shard read by more than two consumers: the table's stream has at
/// most two event source mappings, each filtered, each reporting partial batch failures.
#[test]
fn the_tables_stream_has_at_most_two_readers() {
    let template = template();
    let resources = template["Resources"].as_mapping().expect("Resources");
    let mut readers = Vec::new();
    let mut patterns = Vec::new();
    for (name, resource) in resources {
        for (_, event) in resource["Properties"]["Events"].as_mapping().into_iter().flatten() {
            if event["Type"].as_str() != Some("DynamoDB") {
                continue;
            }
            let props = &event["Properties"];
            let stream = match &props["Stream"] {
                Value::Tagged(tagged) => tagged.value.as_str().unwrap_or_default().to_owned(),
                other => panic!("{name:?}: a stream the test cannot read: {other:?}"),
            };
            assert_eq!(stream, "Table.StreamArn", "{name:?}");
            assert_eq!(strings_of(&props["FunctionResponseTypes"]), ["ReportBatchItemFailures"], "{name:?}");
            assert!(
                props["FilterCriteria"]["Filters"].as_sequence().is_some_and(|f| !f.is_empty()),
                "{name:?}"
            );
            // AWS's quota: five filters per event source mapping (the emulator applies none).
            let filters = props["FilterCriteria"]["Filters"].as_sequence().map_or(0, Vec::len);
            assert!(filters <= 5, "{name:?} has {filters} stream filters; AWS takes at most 5");
            for filter in props["FilterCriteria"]["Filters"].as_sequence().into_iter().flatten() {
                patterns.push(filter["Pattern"].as_str().unwrap_or_default().to_owned());
            }
            readers.push(name.as_str().unwrap_or_default().to_owned());
        }
    }
    assert!(readers.len() <= 2, "the table's stream has {} readers: {readers:?}", readers.len());
    // The filters select by the store's entity names, and only ones the decoder follows.
    let followed: Vec<&str> = orgs::store::stream::FOLLOWED.iter().map(|e| e.as_str()).collect();
    let mut filtered = BTreeSet::new();
    for pattern in &patterns {
        let pattern: serde_json::Value = serde_json::from_str(pattern).expect("a filter pattern is JSON");
        for image in ["NewImage", "OldImage"] {
            for name in
                pattern["dynamodb"][image][orgs::store::schema::ENTITY]["S"].as_array().into_iter().flatten()
            {
                let name = name.as_str().unwrap_or_default();
                assert!(
                    followed.contains(&name),
                    "a stream filter selects {name:?}, which the decoder does not follow"
                );
                filtered.insert(name.to_owned());
            }
        }
    }
    assert_eq!(
        filtered,
        followed.iter().map(|n| n.to_string()).collect(),
        "each followed kind is filtered in"
    );
    assert_eq!(readers, ["SendInvitationEmailFunction", "DispatchTableStreamFunction"]);
}

/// Whether a stream filter `pattern` (the subset the template uses: `eventName` and the images'
/// `entity`) lets through a record of `event` whose new and old images are of `new` and `old`.
fn lets_through(pattern: &serde_json::Value, event: &str, new: Option<&str>, old: Option<&str>) -> bool {
    let listed = |value: &serde_json::Value, wanted: Option<&str>| match value.as_array() {
        None => true,
        Some(names) => wanted.is_some_and(|w| names.iter().any(|n| n.as_str() == Some(w))),
    };
    listed(&pattern["eventName"], Some(event))
        && listed(&pattern["dynamodb"]["NewImage"][orgs::store::schema::ENTITY]["S"], new)
        && listed(&pattern["dynamodb"]["OldImage"][orgs::store::schema::ENTITY]["S"], old)
}

#[test]
fn the_ordered_readers_filters_let_through_every_change_a_webhook_is_made_of() {
    let template = template();
    let filters: Vec<serde_json::Value> = template["Resources"]["DispatchTableStreamFunction"]["Properties"]
        ["Events"]
        .as_mapping()
        .into_iter()
        .flatten()
        .flat_map(|(_, event)| {
            event["Properties"]["FilterCriteria"]["Filters"].as_sequence().cloned().unwrap_or_default()
        })
        .map(|f| serde_json::from_str(f["Pattern"].as_str().unwrap_or_default()).expect("JSON"))
        .collect();
    // What `store::stream::webhook_event` turns into an event, as (eventName, new, old) images.
    let sources = [
        ("INSERT", Some("invitation"), None),
        ("INSERT", Some("member"), None),
        ("MODIFY", Some("member"), Some("member")),
        ("REMOVE", None, Some("member")),
        ("INSERT", Some("cluster"), None),
        ("MODIFY", Some("cluster"), Some("cluster")),
        ("MODIFY", Some("node"), Some("node")),
        ("MODIFY", Some("credits"), Some("credits")),
    ];
    for (event, new, old) in sources {
        assert!(
            filters.iter().any(|f| lets_through(f, event, new, old)),
            "no filter lets a {event} of {new:?}/{old:?} through to the ordered reader"
        );
    }
    assert!(
        !filters.iter().any(|f| lets_through(f, "INSERT", Some("event"), None)),
        "the matcher can say no"
    );
}

/// The changes a sample stream event's records decode to.
fn decoded(event: &aws_lambda_events::dynamodb::Event) -> Vec<orgs::store::stream::Change> {
    event.records.iter().map(|r| orgs::store::stream::decode(r).expect("a sample decodes")).collect()
}

fn strings_of(value: &Value) -> Vec<String> {
    value.as_sequence().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect()
}

/// Holds cover one charging period: the period the code assumes is the reconciler's schedule.
#[test]
fn the_charging_period_is_the_scheduled_jobs() {
    let template = template();
    let schedule = &template["Resources"]["ReconcileClustersFunction"]["Properties"]["Events"]["Schedule"];
    let minutes = orgs::domain::CHARGING_PERIOD.whole_minutes();
    assert_eq!(
        schedule["Properties"]["ScheduleExpression"].as_str(),
        Some(format!("rate({minutes} minutes)").as_str())
    );
}
