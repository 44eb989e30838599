//! The DynamoDB plumbing every aggregate shares: key and value builders, strongly consistent
//! reads, paginated queries, and transactions whose actions have names.
//!
//! A transaction is built as named actions; when DynamoDB cancels it, each cancellation reason is
//! read by the name of its action, never by position, and [`TxError::explain`] owns the tail every
//! write shares: a named failure becomes the caller's domain error, a concurrent transaction a
//! retryable conflict, anything else a broken invariant.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, KeysAndAttributes, Put, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};
use serde::Serialize;

use super::Store;
use super::expr::{Changes, Cond, KeyQuery, absent, attr};
use super::items::Item;
use super::schema;
use crate::aws::failure;
use crate::domain::DomainError;

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn number(value: impl std::fmt::Display) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// A value as serde stores it: enum values in conditions are spelled exactly as in the items.
pub fn stored<T: Serialize>(value: &T) -> Result<AttributeValue, DomainError> {
    serde_dynamo::to_attribute_value(value)
        .map_err(|e| DomainError::Corrupt(format!("cannot encode a condition value: {e}")))
}

pub fn key(pk: String, sk: impl Into<String>) -> Item {
    HashMap::from([(schema::PK.to_owned(), s(pk)), (schema::SK.to_owned(), s(sk))])
}

/// A request the SDK refused to build is this code's mistake: permanent.
pub fn built<T, E: std::error::Error + Send + Sync + 'static>(r: Result<T, E>) -> Result<T, DomainError> {
    r.map_err(|e| DomainError::failed("building a DynamoDB request", e))
}

pub fn contention() -> DomainError {
    DomainError::Conflict("another request changed this at the same moment; try again".into())
}

/// The actions of one transaction, each with a name its cancellation reason is read by.
#[derive(Default, Clone)]
pub struct Tx {
    names: Vec<&'static str>,
    actions: Vec<TransactWriteItem>,
}

impl Tx {
    pub fn new() -> Self {
        Self::default()
    }

    /// Several actions of one kind may share a name (every revoked invitation of a removal):
    /// the name then fails when any of them does.
    fn with(mut self, name: &'static str, action: TransactWriteItem) -> Self {
        self.names.push(name);
        self.actions.push(action);
        self
    }

    pub fn put(self, name: &'static str, put: Put) -> Self {
        self.with(name, TransactWriteItem::builder().put(put).build())
    }

    pub fn update(self, name: &'static str, update: Update) -> Self {
        self.with(name, TransactWriteItem::builder().update(update).build())
    }

    pub fn delete(self, name: &'static str, delete: Delete) -> Self {
        self.with(name, TransactWriteItem::builder().delete(delete).build())
    }

    pub fn check(self, name: &'static str, check: ConditionCheck) -> Self {
        self.with(name, TransactWriteItem::builder().condition_check(check).build())
    }
}

/// Why DynamoDB cancelled a transaction, by action name.
#[derive(Debug)]
pub struct Cancelled {
    what: &'static str,
    reasons: Vec<(&'static str, Option<String>, Option<Item>)>,
}

impl Cancelled {
    /// Whether the condition of the action named `name` failed.
    pub fn failed(&self, name: &str) -> bool {
        self.reasons
            .iter()
            .any(|(n, code, _)| *n == name && code.as_deref() == Some("ConditionalCheckFailed"))
    }

    /// The item as it was when the condition of `name` failed (ALL_OLD).
    pub fn old_item(&self, name: &str) -> Option<Item> {
        self.reasons.iter().find(|(n, _, _)| *n == name).and_then(|(_, _, item)| item.clone())
    }

    /// A concurrent transaction touched the same items: the caller may retry.
    fn conflicted(&self) -> bool {
        self.reasons.iter().any(|(_, code, _)| code.as_deref() == Some("TransactionConflict"))
    }
}

pub enum TxError {
    Cancelled(Cancelled),
    Failed(DomainError),
}

impl TxError {
    /// Whether the condition of the action named `name` failed.
    pub fn failed(&self, name: &str) -> bool {
        matches!(self, TxError::Cancelled(c) if c.failed(name))
    }

    /// Whether an action not named in `names` failed or conflicted (or the write failed outright).
    pub fn any_failed_except(&self, names: &[&str]) -> bool {
        match self {
            TxError::Failed(_) => true,
            TxError::Cancelled(c) => c
                .reasons
                .iter()
                .any(|(n, code, _)| !names.contains(n) && code.as_deref().is_some_and(|code| code != "None")),
        }
    }

    /// The domain error: a key no longer in force is a 401; `explain` names what any other failed
    /// condition means; a conflict with another transaction is a retryable 409; any other
    /// cancellation is a broken invariant.
    pub fn explain(self, explain: impl FnOnce(&Cancelled) -> Option<DomainError>) -> DomainError {
        match self {
            TxError::Failed(e) => e,
            // An API key revoked (or its account deleted) while its request ran, whatever the
            // write was: the same 401 as its next request gets.
            TxError::Cancelled(c) if c.failed(super::service_accounts::KEY_IN_FORCE) => {
                DomainError::Unauthorized("the API key is not valid".into())
            }
            TxError::Cancelled(c) => match explain(&c) {
                Some(e) => e,
                None if c.conflicted() => contention(),
                None => DomainError::Corrupt(format!("{} cancelled: {:?}", c.what, c.reasons)),
            },
        }
    }
}

impl Store {
    /// One conditional UpdateItem; whether its condition held.
    pub(super) async fn update_if(
        &self,
        key: super::items::Item,
        changes: Changes,
    ) -> Result<bool, DomainError> {
        let request = changes.onto(self.client.update_item().table_name(&self.table).set_key(Some(key)));
        match request.send().await {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(_)) =>
            {
                Ok(false)
            }
            Err(e) => Err(failure("DynamoDB UpdateItem", e)),
        }
    }

    /// One PutItem of an item that must not exist yet; whether it was written (`false`: it was
    /// there already).
    pub(super) async fn put_new(&self, item: super::items::Item) -> Result<bool, DomainError> {
        let request = absent().onto(self.client.put_item().table_name(&self.table).set_item(Some(item)));
        match request.send().await {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(e))
                if matches!(
                    e.err(),
                    aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(_)
                ) =>
            {
                Ok(false)
            }
            Err(e) => Err(failure("DynamoDB PutItem", e)),
        }
    }

    /// A put whose failed condition returns the item as it was.
    pub(super) fn put(&self, item: Item, condition: Cond) -> Result<Put, DomainError> {
        built(
            self.put_if(item, condition)
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .build(),
        )
    }

    /// A put of `item` into the table while `condition` holds.
    pub(super) fn put_if(
        &self,
        item: Item,
        condition: Cond,
    ) -> aws_sdk_dynamodb::types::builders::PutBuilder {
        condition.onto(Put::builder().table_name(&self.table).set_item(Some(item)))
    }

    pub(super) fn update(&self, key: Item) -> aws_sdk_dynamodb::types::builders::UpdateBuilder {
        Update::builder().table_name(&self.table).set_key(Some(key))
    }

    pub(super) fn delete(&self, key: Item) -> aws_sdk_dynamodb::types::builders::DeleteBuilder {
        Delete::builder().table_name(&self.table).set_key(Some(key))
    }

    pub(super) fn condition(&self, key: Item) -> aws_sdk_dynamodb::types::builders::ConditionCheckBuilder {
        ConditionCheck::builder().table_name(&self.table).set_key(Some(key))
    }

    /// Runs `tx` all or nothing. `what` names it in the log of a broken invariant.
    pub(super) async fn commit(&self, what: &'static str, tx: Tx) -> Result<(), TxError> {
        let Tx { names, actions } = tx;
        match self.client.transact_write_items().set_transact_items(Some(actions)).send().await {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), TransactWriteItemsError::TransactionCanceledException(_)) =>
            {
                let reasons = match e.into_err() {
                    TransactWriteItemsError::TransactionCanceledException(c) => {
                        c.cancellation_reasons.unwrap_or_default()
                    }
                    _ => Vec::new(),
                };
                Err(TxError::Cancelled(Cancelled {
                    what,
                    reasons: names.into_iter().zip(reasons).map(|(n, r)| (n, r.code, r.item)).collect(),
                }))
            }
            Err(e) => Err(TxError::Failed(failure("DynamoDB TransactWriteItems", e))),
        }
    }

    pub(super) async fn get(&self, pk: String, sk: impl Into<String>) -> Result<Option<Item>, DomainError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| failure("DynamoDB GetItem", e))?;
        Ok(out.item)
    }

    /// Strongly consistent reads of several items in one round trip (retrying unprocessed keys).
    pub(super) async fn get_many(&self, keys: Vec<Item>) -> Result<Vec<Item>, DomainError> {
        let mut pending = keys;
        let mut found = Vec::new();
        for attempt in 0..5u32 {
            let request =
                built(KeysAndAttributes::builder().set_keys(Some(pending)).consistent_read(true).build())?;
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(|e| failure("DynamoDB BatchGetItem", e))?;
            if let Some(mut responses) = out.responses {
                found.extend(responses.remove(&self.table).unwrap_or_default());
            }
            pending = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.table))
                .map(|k| k.keys)
                .unwrap_or_default();
            if pending.is_empty() {
                return Ok(found);
            }
            tokio::time::sleep(std::time::Duration::from_millis(25 << attempt)).await;
        }
        Err(DomainError::unavailable("DynamoDB BatchGetItem", "keys left unprocessed after retries"))
    }

    fn query_request(&self, q: &Query) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        let partition = attr(q.key_attr).eq(s(q.value.clone()));
        let key = match (&q.sk_prefix, &q.sk_from, &q.sk_before) {
            (Some(prefix), _, _) => partition.and(attr(q.sort_attr).begins_with(s(prefix.clone()))),
            (None, Some(from), _) => partition.and(attr(q.sort_attr).ge(s(from.clone()))),
            (None, None, Some(before)) => partition.and(attr(q.sort_attr).lt(s(before.clone()))),
            (None, None, None) => partition,
        };
        let expression = KeyQuery::new(&key, q.filter.as_ref());
        self.client
            .query()
            .table_name(&self.table)
            .set_index_name(q.index.map(str::to_owned))
            .key_condition_expression(expression.key_condition)
            .set_filter_expression(expression.filter)
            .set_expression_attribute_names(expression.names)
            .set_expression_attribute_values(expression.values)
            .set_consistent_read(q.index.is_none().then_some(true))
            .scan_index_forward(!q.newest_first)
    }

    /// Every item of one partition (strongly consistent) or one GSI key (eventually consistent),
    /// optionally filtered, through the SDK's paginator.
    pub(super) async fn query(&self, q: Query) -> Result<Vec<Item>, DomainError> {
        self.query_request(&q)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| failure("DynamoDB Query", e))
    }

    /// One page of at most `limit` items from `start`, and the key to continue from (none at the
    /// end). A filter may leave a DynamoDB page short: reads continue until the page is full, for
    /// at most [`MAX_READS_PER_PAGE`] calls, and then the page ends early with a cursor.
    pub(super) async fn page(
        &self,
        q: Query,
        limit: i32,
        mut start: Option<Item>,
    ) -> Result<(Vec<Item>, Option<Item>), DomainError> {
        let mut items = Vec::new();
        for _ in 0..MAX_READS_PER_PAGE {
            let want = limit - i32::try_from(items.len()).unwrap_or(limit);
            let out = self
                .query_request(&q)
                .limit(want)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| failure("DynamoDB Query", e))?;
            items.extend(out.items.unwrap_or_default());
            start = out.last_evaluated_key.filter(|k| !k.is_empty());
            if start.is_none() || i32::try_from(items.len()).unwrap_or(limit) >= limit {
                break;
            }
        }
        Ok((items, start))
    }
}

/// How many Query calls one filtered page may take before it ends early.
const MAX_READS_PER_PAGE: usize = 5;

/// A query of one partition (`index: None`) or one GSI key, optionally of the sort keys that
/// begin with a prefix.
pub struct Query {
    pub index: Option<&'static str>,
    pub key_attr: &'static str,
    pub sort_attr: &'static str,
    pub value: String,
    pub sk_prefix: Option<String>,
    /// Sort keys from this one on (`>=`); not with a prefix.
    pub sk_from: Option<String>,
    /// Sort keys below this one (`<`); not with a prefix or a start.
    pub sk_before: Option<String>,
    pub filter: Option<Cond>,
    pub newest_first: bool,
}

impl Query {
    pub fn partition(pk: String) -> Self {
        Self {
            index: None,
            key_attr: schema::PK,
            sort_attr: schema::SK,
            value: pk,
            sk_prefix: None,
            sk_from: None,
            sk_before: None,
            filter: None,
            newest_first: false,
        }
    }

    pub fn gsi1(value: String) -> Self {
        Self {
            index: Some(schema::GSI1),
            key_attr: schema::GSI1_PK,
            sort_attr: schema::GSI1_SK,
            ..Self::partition(value)
        }
    }

    pub fn gsi2(value: String) -> Self {
        Self {
            index: Some(schema::GSI2),
            key_attr: schema::GSI2_PK,
            sort_attr: schema::GSI2_SK,
            ..Self::partition(value)
        }
    }

    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.sk_prefix = Some(prefix.into());
        self
    }

    pub fn from(mut self, sk: impl Into<String>) -> Self {
        self.sk_from = Some(sk.into());
        self
    }

    pub fn before(mut self, sk: impl Into<String>) -> Self {
        self.sk_before = Some(sk.into());
        self
    }

    pub fn newest_first(mut self) -> Self {
        self.newest_first = true;
        self
    }
}
