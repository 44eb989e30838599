//! IAM conformance: every AWS call each function makes on the local stack is granted by that
//! function's policy in `infra/template.yaml`, as AWS would authorise it, and every grant is used
//! by some call (or the function's `Metadata.IamKept` says why it stays).
//!
//! moto lets any caller do anything, so this check stands in for IAM. Each function signs with its
//! own access key id (`local_stack::identity`), the emulator wrapper records every call by key
//! (`serve.py`), and the calls are authorised here the way AWS does:
//!
//! - DynamoDB: each action of a `TransactWriteItems` is its single call (`PutItem`, `UpdateItem`,
//!   `DeleteItem`, `ConditionCheckItem`), a batch needs its action on every table it names, and a
//!   query of an index needs the index's own ARN (`table/NAME/index/INDEX`).
//! - STS `AssumeRole` is on the role's ARN, with `aws:ResourceAccount` (the role's account) and
//!   `sts:ExternalId` as condition keys; `GetCallerIdentity` needs no permission.
//! - SES `SendEmail` is on the sender's identity (and the configuration set, when named), with
//!   `ses:FromAddress` as a condition key.
//!
//! Calls signed with credentials from an assumed role act as the customer's role, not as the
//! function, and are not checked against the function's policy.
//!
//! The scenario that makes the calls is the integration tests that cover every function's success
//! paths and its refusal paths that read (the 409 branches that query), run one after the other;
//! the check then reads every call this test process recorded, including those of tests that ran
//! beside it.

use std::collections::{BTreeMap, BTreeSet};

use local_stack::emulator::{RecordedCall, workspace_root};
use serde_json::Value as Json;
use serde_yaml_ng::Value;

use crate::support::emulator;

/// What the local stack stands for in ARNs: moto's default account, its region.
const ACCOUNT: &str = local_stack::MOTO_ACCOUNT;
const REGION: &str = "us-east-1";

/// One permission a call needs: an action on a resource, with the condition keys AWS sets.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Need {
    action: String,
    resource: String,
    context: BTreeMap<String, String>,
}

/// One `Allow` statement of a function's policy, its intrinsics resolved for one table.
#[derive(Debug, Clone)]
struct Statement {
    actions: Vec<String>,
    resources: Vec<String>,
    /// operator -> key -> allowed values
    conditions: Vec<(String, String, Vec<String>)>,
}

/// One function as the template declares it.
#[derive(Debug, Clone)]
struct Function {
    statements: Vec<Statement>,
    /// Actions granted but used by no code of the function, each with the reason it stays.
    kept: BTreeMap<String, String>,
}

/// Every function's policy, keyed by its binary's name, with ARNs resolved as on `table` and
/// `sender`. A policy the check cannot read (a SAM policy template, a `Deny`, an unknown
/// intrinsic) is a failure: write it out as a statement.
fn policies(template: &Value, table: &str, sender: &str) -> Result<BTreeMap<String, Function>, String> {
    let resources = template["Resources"].as_mapping().ok_or("template without Resources")?;
    let mut out = BTreeMap::new();
    for (name, resource) in resources {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let name = name.as_str().unwrap_or_default();
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .ok_or_else(|| format!("{name}: no Metadata.BuildProperties.Binary"))?
            .to_owned();
        let mut statements = Vec::new();
        for policy in resource["Properties"]["Policies"].as_sequence().into_iter().flatten() {
            let Some(list) = policy.get("Statement").and_then(Value::as_sequence) else {
                return Err(format!(
                    "{binary}: a policy this check cannot read ({policy:?}); write it out as a Statement"
                ));
            };
            for statement in list {
                if statement["Effect"].as_str() != Some("Allow") {
                    return Err(format!("{binary}: only Allow statements are understood here"));
                }
                let resolve = |v: &Value| resolve(v, table, sender).map_err(|e| format!("{binary}: {e}"));
                let actions = strings(&statement["Action"]).into_iter().map(|a| a.to_lowercase()).collect();
                let mut resources = Vec::new();
                match &statement["Resource"] {
                    Value::Sequence(items) => {
                        for item in items {
                            resources.push(resolve(item)?);
                        }
                    }
                    other => resources.push(resolve(other)?),
                }
                let mut conditions = Vec::new();
                if let Some(map) = statement["Condition"].as_mapping() {
                    for (operator, keys) in map {
                        for (key, values) in keys.as_mapping().into_iter().flatten() {
                            let values = match values {
                                Value::Sequence(items) => {
                                    items.iter().map(resolve).collect::<Result<_, _>>()?
                                }
                                other => vec![resolve(other)?],
                            };
                            conditions.push((
                                operator.as_str().unwrap_or_default().to_owned(),
                                key.as_str().unwrap_or_default().to_lowercase(),
                                values,
                            ));
                        }
                    }
                }
                statements.push(Statement { actions, resources, conditions });
            }
        }
        let kept = resource["Metadata"]["IamKept"]
            .as_mapping()
            .into_iter()
            .flatten()
            .map(|(k, v)| {
                (k.as_str().unwrap_or_default().to_lowercase(), v.as_str().unwrap_or_default().to_owned())
            })
            .collect();
        out.insert(binary, Function { statements, kept });
    }
    Ok(out)
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Sequence(items) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

/// A policy value with the intrinsics the policies use (`!GetAtt`, `!Sub`, `!Ref`) resolved as
/// the local stack stands for them.
fn resolve(value: &Value, table: &str, sender: &str) -> Result<String, String> {
    let table_arn = format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}");
    let reference = |name: &str| -> Result<String, String> {
        Ok(match name {
            "AWS::Partition" => "aws".to_owned(),
            "AWS::Region" => REGION.to_owned(),
            "AWS::AccountId" => ACCOUNT.to_owned(),
            "Table" => table.to_owned(),
            "Table.Arn" => table_arn.clone(),
            "Table.StreamArn" => format!("{table_arn}/stream/*"),
            "SesSender" | "SesIdentity" => sender.to_owned(),
            "MailerFailures.Arn" => format!("arn:aws:sqs:{REGION}:{ACCOUNT}:mailer-failures"),
            "MailConfigurationSet" => "mail".to_owned(),
            other => return Err(format!("the check does not know what {other} stands for locally")),
        })
    };
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let inner = tagged.value.as_str().ok_or_else(|| format!("{tag} with a non-string argument"))?;
            match tag.trim_start_matches('!') {
                "GetAtt" | "Ref" => reference(inner),
                "Sub" => {
                    let mut out = String::new();
                    let mut rest = inner;
                    while let Some(start) = rest.find("${") {
                        out.push_str(&rest[..start]);
                        let end = rest[start..].find('}').ok_or("an unclosed ${ in !Sub")? + start;
                        out.push_str(&reference(&rest[start + 2..end])?);
                        rest = &rest[end + 1..];
                    }
                    out.push_str(rest);
                    Ok(out)
                }
                other => Err(format!("the check does not resolve !{other}")),
            }
        }
        other => Err(format!("a policy value the check does not read: {other:?}")),
    }
}

/// What one recorded call needs from IAM.
fn needs(call: &RecordedCall) -> Vec<Need> {
    let param = |name: &str| call.params.get(name).and_then(Json::as_str).unwrap_or_default().to_owned();
    let table_arn = |table: &str| format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}");
    let need = |action: &str, resource: String| Need {
        action: action.to_lowercase(),
        resource,
        context: BTreeMap::new(),
    };
    match (call.service.as_str(), call.action.as_str()) {
        ("dynamodb", "TransactWriteItems" | "TransactGetItems") => call
            .params
            .get("TransactItems")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .filter_map(Json::as_object)
            .flat_map(|entry| entry.iter())
            .map(|(op, table)| {
                let action = match op.as_str() {
                    "Put" => "PutItem",
                    "Update" => "UpdateItem",
                    "Delete" => "DeleteItem",
                    "ConditionCheck" => "ConditionCheckItem",
                    "Get" => "GetItem",
                    other => other,
                };
                need(&format!("dynamodb:{action}"), table_arn(table.as_str().unwrap_or_default()))
            })
            .collect(),
        ("dynamodb", action @ ("BatchGetItem" | "BatchWriteItem")) => call
            .params
            .get("RequestItems")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .filter_map(Json::as_str)
            .map(|table| need(&format!("dynamodb:{action}"), table_arn(table)))
            .collect(),
        ("dynamodb", action) => {
            let mut resource = table_arn(&param("TableName"));
            let index = param("IndexName");
            if !index.is_empty() {
                resource = format!("{resource}/index/{index}");
            }
            vec![need(&format!("dynamodb:{action}"), resource)]
        }
        // Who am I? needs no permission.
        ("sts", "GetCallerIdentity") => Vec::new(),
        ("sts", action) => {
            let role = param("RoleArn");
            let mut n = need(&format!("sts:{action}"), role.clone());
            n.context
                .insert("aws:resourceaccount".into(), role.split(':').nth(4).unwrap_or_default().to_owned());
            n.context.insert("sts:externalid".into(), param("ExternalId"));
            vec![n]
        }
        ("ses", action) => {
            let source = param("Source");
            let address = source.rsplit('<').next().unwrap_or(&source).trim_end_matches('>').to_owned();
            let mut out = vec![need(
                &format!("ses:{action}"),
                format!("arn:aws:ses:{REGION}:{ACCOUNT}:identity/{address}"),
            )];
            let set = param("ConfigurationSetName");
            if !set.is_empty() {
                out.push(need(
                    &format!("ses:{action}"),
                    format!("arn:aws:ses:{REGION}:{ACCOUNT}:configuration-set/{set}"),
                ));
            }
            for n in &mut out {
                n.context.insert("ses:fromaddress".into(), address.clone());
            }
            out
        }
        (service, action) => vec![need(&format!("{service}:{action}"), "*".to_owned())],
    }
}

/// IAM's wildcard match (`*` any run, `?` one character), case-sensitive as for ARNs.
fn matches(pattern: &str, text: &str) -> bool {
    fn go(p: &[u8], t: &[u8]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], t) || (!t.is_empty() && go(p, &t[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &t[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), text.as_bytes())
}

/// Whether `statement` grants `need`: an action, a resource, and every condition satisfied by the
/// call's context (a condition key the call does not set is not satisfied, as in IAM).
fn grants(statement: &Statement, need: &Need) -> bool {
    statement.actions.iter().any(|a| matches(a, &need.action))
        && statement.resources.iter().any(|r| matches(r, &need.resource))
        && statement.conditions.iter().all(|(operator, key, values)| {
            let Some(actual) = need.context.get(key) else { return false };
            match operator.as_str() {
                "StringEquals" => values.iter().any(|v| v == actual),
                "StringNotEquals" => values.iter().all(|v| v != actual),
                "StringLike" => values.iter().any(|v| matches(v, actual)),
                "StringNotLike" => values.iter().all(|v| !matches(v, actual)),
                _ => false,
            }
        })
}

/// What the check found: calls a policy does not grant, grants no call used, functions never seen.
fn conformance(functions: &BTreeMap<String, Function>, calls: &[RecordedCall]) -> Vec<String> {
    let mut problems = BTreeSet::new();
    let mut used: BTreeMap<&str, BTreeSet<(usize, String)>> = BTreeMap::new();
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for call in calls {
        // Credentials of an assumed role act as the customer's role, not as any function.
        let Some(function) = functions.get(call.key.as_str()) else { continue };
        seen.insert(call.key.as_str());
        for need in needs(call) {
            check_one(function, &call.key, need, &mut problems, &mut used);
        }
    }
    for (name, function) in functions {
        let granted: Vec<(usize, &Statement)> = function.statements.iter().enumerate().collect();
        if granted.is_empty() {
            continue;
        }
        if !seen.contains(name.as_str()) {
            problems.insert(format!("{name}: made no AWS call in the scenario, so its policy is unchecked"));
            continue;
        }
        for (index, statement) in granted {
            for action in &statement.actions {
                let used_here = used.get(name.as_str()).is_some_and(|u| u.contains(&(index, action.clone())));
                let explained = function.kept.get(action).is_some_and(|why| !why.trim().is_empty());
                if !used_here && !explained {
                    problems.insert(format!(
                        "{name}: grants {action} on {:?} but no call used it (remove it, or say why it stays in Metadata.IamKept)",
                        statement.resources
                    ));
                }
            }
        }
    }
    problems.into_iter().collect()
}

fn check_one<'a>(
    function: &Function,
    name: &'a str,
    need: Need,
    problems: &mut BTreeSet<String>,
    used: &mut BTreeMap<&'a str, BTreeSet<(usize, String)>>,
) {
    let granting: Vec<usize> =
        function.statements.iter().enumerate().filter(|(_, s)| grants(s, &need)).map(|(i, _)| i).collect();
    if granting.is_empty() {
        problems.insert(format!("{name}: {} on {} is not granted by its policy", need.action, need.resource));
    }
    for index in granting {
        let statement = &function.statements[index];
        for action in statement.actions.iter().filter(|a| matches(a, &need.action)) {
            used.entry(name).or_default().insert((index, action.clone()));
        }
    }
}

fn template() -> Value {
    let text =
        std::fs::read_to_string(workspace_root().join("infra/template.yaml")).expect("infra/template.yaml");
    serde_yaml_ng::from_str(&text).expect("template parses")
}

/// Every call recorded so far, with each DynamoDB table renamed to `table` and each sender to
/// `sender`: each test has a table and a sender of its own, and the policies are resolved for one.
async fn recorded_calls(table: &str, sender: &str) -> Vec<RecordedCall> {
    let calls = emulator()
        .await
        .calls()
        .await
        .unwrap_or_else(|e| panic!("reading the emulator's record of calls: {e}"));
    normalized(calls, table, sender)
}

/// Every call recorded in `dir`'s `*.jsonl` files (one per test process of the suite).
fn suite_calls(dir: &std::path::Path) -> Vec<RecordedCall> {
    let mut calls = Vec::new();
    let files = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for file in files.filter_map(Result::ok).filter(|f| f.path().extension().is_some_and(|e| e == "jsonl")) {
        let text = std::fs::read_to_string(file.path()).unwrap_or_else(|e| panic!("{:?}: {e}", file.path()));
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            calls.push(
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{:?}: {e}: {line}", file.path())),
            );
        }
    }
    assert!(!calls.is_empty(), "no calls were recorded in {}", dir.display());
    calls
}

/// The calls with the table's and the sender's names as the check resolves the template's.
fn normalized(mut calls: Vec<RecordedCall>, table: &str, sender: &str) -> Vec<RecordedCall> {
    let one = Json::String(table.to_owned());
    for call in calls.iter_mut().filter(|c| c.service == "ses" && c.params.contains_key("Source")) {
        call.params.insert("Source".into(), Json::String(sender.to_owned()));
    }
    for call in calls.iter_mut().filter(|c| c.service == "dynamodb") {
        if call.params.contains_key("TableName") {
            call.params.insert("TableName".into(), one.clone());
        }
        if let Some(Json::Array(tables)) = call.params.get_mut("RequestItems") {
            tables.iter_mut().for_each(|t| *t = one.clone());
        }
        if let Some(Json::Array(actions)) = call.params.get_mut("TransactItems") {
            for action in actions.iter_mut().filter_map(Json::as_object_mut) {
                action.values_mut().for_each(|t| *t = one.clone());
            }
        }
    }
    calls
}

/// The scenario: the tests that reach every function's success paths and its refusal paths that
/// read, one after the other (each builds its own stack), in a runtime of their own.
fn run_scenario() {
    let tests: &[fn()] = &[
        crate::local_events::every_generated_event_succeeds_through_its_function,
        crate::story::alice_invites_bob_who_joins_carol_sees_nothing_and_bob_is_removed,
        crate::story::a_member_may_leave_but_not_remove_others,
        crate::story::a_user_the_trigger_missed_is_registered_by_their_first_dashboard_visit,
        crate::story::a_persons_address_follows_the_email_their_identity_provider_verified,
        crate::administration::a_member_invites_members_only_while_the_organization_allows_it,
        crate::administration::invitations_last_the_organizations_lifetime_and_a_resend_revives_them,
        crate::administration::a_rename_reaches_every_members_dashboard_and_every_invitees,
        crate::administration::the_audit_log_tells_managers_what_happened_newest_first,
        crate::administration::a_user_owns_at_most_twenty_organizations_even_creating_them_in_parallel,
        crate::roles::the_owner_promotes_and_demotes_and_the_change_holds_at_once,
        crate::roles::the_owner_hands_the_organization_to_a_member_and_becomes_an_admin,
        crate::roles::a_demoted_admin_takes_their_open_invitations_with_them,
        crate::invitations::a_member_or_a_pending_email_cannot_be_invited_again,
        crate::invitations::bob_declines_and_can_be_invited_again,
        crate::inviters::removing_an_admin_withdraws_the_invitations_they_sent,
        crate::inviters::a_revoked_invitation_leaves_the_invitees_dashboard_and_frees_the_address,
        crate::cloud_account::alice_connects_her_account_and_every_member_reads_it,
        crate::cloud_account::a_malformed_refused_or_unguarded_role_saves_nothing,
        crate::clusters::bob_deploys_in_alices_account_and_everyone_runs_the_same_cluster,
        crate::clusters::a_cluster_needs_an_account_and_sensible_sizes,
        crate::clusters::reconciliation_follows_instances_changed_behind_the_services_back,
        crate::clusters::ports_open_in_the_clusters_security_group_for_whoever_may_open_them,
        crate::cluster_users::members_get_accounts_on_managed_clusters_follow_their_role_and_are_blocked_when_removed,
        crate::cluster_users::an_idle_cluster_is_stopped_and_a_silent_one_only_flagged,
        crate::credits::usage_is_clipped_to_the_window_attributed_to_who_started_it_and_csv_agrees,
        crate::credits::without_credits_running_clusters_are_stopped_and_nothing_starts_until_an_operator_grants,
        crate::mailer::a_bounce_and_a_complaint_reach_the_inviter_and_a_soft_bounce_does_not,
        crate::mailer::a_rejected_email_is_marked_undeliverable_for_the_inviter_and_not_retried,
        crate::service_accounts::a_key_acts_by_its_scopes_outlives_its_creator_and_stops_when_revoked,
        crate::service_accounts::expired_deleted_mistyped_and_foreign_keys_are_refused,
        crate::service_accounts::every_route_that_takes_a_key_answers_a_key_with_the_scope,
        crate::service_accounts::a_key_with_invite_member_invites_in_the_name_of_its_service_account,
        crate::webhooks::a_receiver_gets_every_event_signed_in_order_and_a_500_is_tried_again_after_its_backoff,
        crate::webhooks::a_redelivery_sends_the_same_event_signed_with_the_current_secret_and_a_deleted_endpoint_gets_nothing,
        crate::webhooks::no_delivery_reaches_a_loopback_private_or_metadata_address,
    ];
    for test in tests {
        test();
    }
}

/// Where `cargo xtask test` has the emulators of both test processes record every call
/// (`ORGS_RECORD_CALLS`, one file each): set, the check reads the calls of the whole suite
/// there instead of running its own scenario.
const CALLS_FROM: &str = "ORGS_IAM_CALLS_FROM";

#[test]
fn every_aws_call_a_function_makes_is_granted_by_its_policy_and_every_grant_is_used() {
    let (table, sender) = ("orgs", "no-reply@orgs.test");
    let calls = match std::env::var_os(CALLS_FROM) {
        Some(dir) => normalized(suite_calls(std::path::Path::new(&dir)), table, sender),
        None => {
            // The tests' futures are deep: a thread with room for them, as each test has its own.
            std::thread::Builder::new()
                .stack_size(32 << 20)
                .spawn(run_scenario)
                .expect("a thread")
                .join()
                .unwrap_or_else(|_| panic!("the scenario failed (see the test above)"));
            let runtime =
                tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            runtime.block_on(recorded_calls(table, sender))
        }
    };
    assert!(
        !calls.is_empty(),
        "the emulator recorded no call: the functions do not sign with their own keys"
    );
    let functions = policies(&template(), table, sender).unwrap_or_else(|e| panic!("{e}"));
    let problems = conformance(&functions, &calls);
    assert!(problems.is_empty(), "IAM policies and code disagree:\n{}", problems.join("\n"));
}

#[test]
fn the_check_refuses_a_call_its_policy_lacks_and_a_grant_nothing_uses() {
    let yaml = r#"
Resources:
  F:
    Type: AWS::Serverless::Function
    Metadata: { BuildProperties: { Binary: f } }
    Properties:
      Policies:
        - Statement:
            - Effect: Allow
              Action: [dynamodb:GetItem, dynamodb:PutItem, dynamodb:DeleteItem]
              Resource: !GetAtt Table.Arn
            - Effect: Allow
              Action: [sts:AssumeRole]
              Resource: arn:aws:iam::*:role/*
              Condition:
                StringNotEquals:
                  aws:ResourceAccount: !Ref AWS::AccountId
"#;
    let functions = policies(&serde_yaml_ng::from_str(yaml).expect("yaml"), "t", "s@x").expect("policies");
    let call = |action: &str, params: Json| RecordedCall {
        key: "f".into(),
        service: action.split(':').next().unwrap_or_default().into(),
        action: action.split(':').nth(1).unwrap_or_default().into(),
        params: params.as_object().cloned().unwrap_or_default(),
    };
    let calls = vec![
        call("dynamodb:GetItem", serde_json::json!({"TableName": "t"})),
        call(
            "dynamodb:TransactWriteItems",
            serde_json::json!({"TransactItems": [{"Put": "t"}, {"Update": "t"}]}),
        ),
        call("dynamodb:Query", serde_json::json!({"TableName": "t", "IndexName": orgs::store::schema::GSI1})),
        call("sts:AssumeRole", serde_json::json!({"RoleArn": "arn:aws:iam::111122223333:role/r"})),
        call("sts:AssumeRole", serde_json::json!({"RoleArn": format!("arn:aws:iam::{ACCOUNT}:role/ours")})),
    ];
    let problems = conformance(&functions, &calls);
    let expected = [
        "f: dynamodb:query on arn:aws:dynamodb:us-east-1:123456789012:table/t/index/gsi1 is not granted by its policy",
        "f: dynamodb:updateitem on arn:aws:dynamodb:us-east-1:123456789012:table/t is not granted by its policy",
        "f: sts:assumerole on arn:aws:iam::123456789012:role/ours is not granted by its policy",
    ];
    for line in expected {
        assert!(problems.iter().any(|p| p == line), "missing {line:?} in {problems:#?}");
    }
    assert!(
        problems.iter().any(|p| p.starts_with("f: grants dynamodb:deleteitem")),
        "an unused grant is listed: {problems:#?}"
    );
    assert_eq!(problems.len(), 4, "{problems:#?}");
}
