//! An organization's service accounts and their API keys: one item on the organization's
//! partition (`ORG#{id}` / `SERVICE_ACCOUNTS`) with two maps, `accounts` by id and `keys` by key
//! id, and a version.
//!
//! - Caps (service accounts per organization, keys per account) are decided on the item read and
//!   written on condition that its version is still the one read, so parallel creations cannot
//!   pass them, and a deletion removes exactly the keys there are.
//! - A key is found with the organization in the one BatchGetItem that reads an organization for
//!   its caller (the path names the organization; the key names its id); only its SHA-256 is
//!   stored, compared in constant time.
//! - Every write a key makes carries the condition that the key is still there and unexpired.
//! - `last_used_at` is written at most once a minute per key, on its own path: it never moves the
//!   version, so use does not race management.
//!
//! One item keeps every rule one condition; it is at most 20 accounts and 100 keys, about 40 kB.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::{ConditionCheck, ReturnValuesOnConditionCheckFailure};
use serde::{Deserialize, Serialize};

use super::Store;
use super::expr::{Changes, absent, attr};
use super::items::{Entity, OrgItem, entity_of, from_item};
use super::keys;
use super::plumbing::{Tx, built, key, number, s, stored};
use super::schema;
use crate::domain::api_keys::{
    ApiKey, ApiKeyInfo, KeyDays, KeyId, KeyRefusal, KeyUse, MAX_KEYS, MAX_SERVICE_ACCOUNTS, Scopes,
    ServiceAccount,
};
use crate::domain::authz::Grant;
use crate::domain::{
    AuditEvent, DomainError, EventAction, Membership, OrgId, Organization, ServiceAccountId, Timestamp,
    UserId,
};

/// Tries when the item changed between the read and the write; each loss is another management
/// write that got in.
const ATTEMPTS: usize = 8;

const ACCOUNTS: &str = "service accounts";
const EVENT: &str = "event";
/// The name of the condition a key's write carries.
pub(super) const KEY_IN_FORCE: &str = "key in force";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct AccountsItem {
    #[serde(default)]
    accounts: BTreeMap<String, AccountEntry>,
    #[serde(default)]
    keys: BTreeMap<String, KeyEntry>,
    #[serde(default)]
    version: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct AccountEntry {
    name: String,
    #[serde(default)]
    description: String,
    created_at: Timestamp,
    created_by: UserId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct KeyEntry {
    service_account_id: ServiceAccountId,
    /// The SHA-256 of the whole key, in hex.
    hash: String,
    scopes: Vec<String>,
    created_at: Timestamp,
    created_by: UserId,
    expires_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_used_at: Option<Timestamp>,
}

impl KeyEntry {
    fn info(&self, key_id: KeyId, now: Timestamp) -> ApiKeyInfo {
        let entry = self;
        ApiKeyInfo {
            key_id,
            scopes: entry.scopes.clone(),
            created_at: entry.created_at,
            created_by: entry.created_by.clone(),
            expires_at: entry.expires_at,
            expired: entry.expires_at <= now,
            last_used_at: entry.last_used_at,
        }
    }
}

impl AccountsItem {
    fn view(&self, now: Timestamp) -> Vec<ServiceAccount> {
        let mut out: Vec<ServiceAccount> = self
            .accounts
            .iter()
            .filter_map(|(id, a)| {
                let service_account_id = ServiceAccountId::parse(id).ok()?;
                let mut keys: Vec<ApiKeyInfo> = self
                    .keys
                    .iter()
                    .filter(|(_, k)| k.service_account_id == service_account_id)
                    .filter_map(|(kid, k)| Some(k.info(KeyId::parse(kid).ok()?, now)))
                    .collect();
                keys.sort_by(|a, b| (a.created_at, &a.key_id).cmp(&(b.created_at, &b.key_id)));
                Some(ServiceAccount {
                    service_account_id,
                    name: a.name.clone(),
                    description: a.description.clone(),
                    created_at: a.created_at,
                    created_by: a.created_by.clone(),
                    keys,
                })
            })
            .collect();
        out.sort_by_key(|a| (a.created_at, a.service_account_id));
        out
    }
}

impl Store {
    /// The organization's service accounts, oldest first, each with its keys.
    pub async fn service_accounts(
        &self,
        org: &OrgId,
        now: Timestamp,
    ) -> Result<Vec<ServiceAccount>, DomainError> {
        match self.get(keys::org_pk(org), keys::SERVICE_ACCOUNTS_SK).await? {
            Some(item) => Ok(from_item::<AccountsItem>(item)?.view(now)),
            None => Ok(Vec::new()),
        }
    }

    /// Makes a service account, by a manager: 409 past [`MAX_SERVICE_ACCOUNTS`].
    pub async fn create_service_account(
        &self,
        actor: &Membership,
        grant: &Grant,
        name: &str,
        description: &str,
        now: Timestamp,
    ) -> Result<ServiceAccount, DomainError> {
        let org = &actor.org_id;
        let id = ServiceAccountId::new();
        let entry = AccountEntry {
            name: name.to_owned(),
            description: description.to_owned(),
            created_at: now,
            created_by: actor.user_id.clone(),
        };
        self.change_accounts(actor, grant, |item| {
            if item.accounts.len() >= MAX_SERVICE_ACCOUNTS as usize {
                return Err(DomainError::Conflict(format!(
                    "an organization has at most {MAX_SERVICE_ACCOUNTS} service accounts: delete one first"
                )));
            }
            item.accounts.insert(id.to_string(), entry.clone());
            Ok(AuditEvent::new(*org, actor.actor(), EventAction::ServiceAccountCreated, now)
                .with("service_account_id", id)
                .with("name", name))
        })
        .await?;
        Ok(ServiceAccount {
            service_account_id: id,
            name: entry.name,
            description: entry.description,
            created_at: now,
            created_by: entry.created_by,
            keys: Vec::new(),
        })
    }

    /// Deletes a service account and every key it holds, in one write: its keys stop working at
    /// once. 404 when there is no such account.
    pub async fn delete_service_account(
        &self,
        actor: &Membership,
        grant: &Grant,
        id: &ServiceAccountId,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        let org = &actor.org_id;
        self.change_accounts(actor, grant, |item| {
            let account =
                item.accounts.remove(&id.to_string()).ok_or(DomainError::NotFound("service account"))?;
            let before = item.keys.len();
            item.keys.retain(|_, k| k.service_account_id != *id);
            Ok(AuditEvent::new(*org, actor.actor(), EventAction::ServiceAccountDeleted, now)
                .with("service_account_id", id)
                .with("name", &account.name)
                .with("keys_revoked", before - item.keys.len()))
        })
        .await
    }

    /// Makes a key for a service account: 404 without the account, 409 past [`MAX_KEYS`]. The
    /// key is in the answer and nowhere else.
    pub async fn create_api_key(
        &self,
        actor: &Membership,
        grant: &Grant,
        id: &ServiceAccountId,
        scopes: &Scopes,
        lifetime: KeyDays,
        now: Timestamp,
    ) -> Result<(ApiKey, ApiKeyInfo), DomainError> {
        let org = &actor.org_id;
        let (key_id, key) = ApiKey::generate();
        let entry = KeyEntry {
            service_account_id: *id,
            hash: key.hash(),
            scopes: scopes.names().into_iter().map(str::to_owned).collect(),
            created_at: now,
            created_by: actor.user_id.clone(),
            expires_at: now.plus(lifetime.duration()),
            last_used_at: None,
        };
        self.change_accounts(actor, grant, |item| {
            let account = item
                .accounts
                .get(&id.to_string())
                .cloned()
                .ok_or(DomainError::NotFound("service account"))?;
            let held = item.keys.values().filter(|k| k.service_account_id == *id).count();
            if held >= MAX_KEYS as usize {
                return Err(DomainError::Conflict(format!(
                    "a service account holds at most {MAX_KEYS} keys (expired ones count): revoke one first"
                )));
            }
            item.keys.insert(key_id.to_string(), entry.clone());
            Ok(AuditEvent::new(*org, actor.actor(), EventAction::ApiKeyCreated, now)
                .with("service_account_id", id)
                .with("service_account", &account.name)
                .with("key_id", &key_id)
                .with("scopes", entry.scopes.join(" "))
                .with("expires_at", entry.expires_at))
        })
        .await?;
        let info = entry.info(key_id, now);
        Ok((key, info))
    }

    /// Revokes one key of a service account: it stops working at once. 404 when the account
    /// holds no such key.
    pub async fn revoke_api_key(
        &self,
        actor: &Membership,
        grant: &Grant,
        id: &ServiceAccountId,
        key_id: &KeyId,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        let org = &actor.org_id;
        self.change_accounts(actor, grant, |item| {
            if item.keys.get(key_id.as_str()).is_none_or(|k| k.service_account_id != *id) {
                return Err(DomainError::NotFound("key"));
            }
            item.keys.remove(key_id.as_str());
            let name = item.accounts.get(&id.to_string()).map(|a| a.name.clone()).unwrap_or_default();
            Ok(AuditEvent::new(*org, actor.actor(), EventAction::ApiKeyRevoked, now)
                .with("service_account_id", id)
                .with("service_account", name)
                .with("key_id", key_id))
        })
        .await
    }

    /// Reads the item, changes a copy with `change` (which answers the audit event), and writes
    /// what changed with the event and the actor's grant, on condition that the version is the
    /// one read. A new item is written whole; an existing one by the entries that changed, so
    /// that a key's `last_used_at`, written beside, is never put back.
    async fn change_accounts(
        &self,
        actor: &Membership,
        grant: &Grant,
        change: impl Fn(&mut AccountsItem) -> Result<AuditEvent, DomainError>,
    ) -> Result<(), DomainError> {
        let org = &actor.org_id;
        for _ in 0..ATTEMPTS {
            let read = self.get(keys::org_pk(org), keys::SERVICE_ACCOUNTS_SK).await?;
            let exists = read.is_some();
            let before: AccountsItem = read.map(from_item).transpose()?.unwrap_or_default();
            let mut after = before.clone();
            let event = change(&mut after)?;
            let version = attr("version");
            let mut changes = Changes::new()
                .set(attr(schema::ENTITY), s(Entity::ServiceAccounts.as_str()))
                .set(attr("org_id"), s(org.to_string()))
                .set(version.clone(), number(before.version + 1));
            if exists {
                changes = changes.when(version.eq(number(before.version)));
                changes = entries_changed(changes, "accounts", &before.accounts, &after.accounts)?;
                changes = entries_changed(changes, "keys", &before.keys, &after.keys)?;
            } else {
                changes = changes
                    .when(absent())
                    .set(attr("accounts"), stored(&after.accounts)?)
                    .set(attr("keys"), stored(&after.keys)?);
            }
            let update = built(
                changes
                    .onto(self.update(key(keys::org_pk(org), keys::SERVICE_ACCOUNTS_SK)))
                    .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                    .build(),
            )?;
            let tx = Tx::new().update(ACCOUNTS, update).put(EVENT, self.event_put(&event)?);
            let tx = self.still_granted(tx, org, actor, grant)?;
            match self.commit("service accounts", tx).await {
                Ok(()) => return Ok(()),
                Err(e) if e.failed(ACCOUNTS) && !e.any_failed_except(&[ACCOUNTS]) => continue,
                Err(e) => {
                    return Err(e.explain(|c| super::grants::lost_grant(c, "manage service accounts")));
                }
            }
        }
        Err(DomainError::unavailable("service accounts", "they kept changing"))
    }

    /// The organization and the key `presented` (whose id is `key_id`) standing in for a member,
    /// in one strongly consistent round trip: `Ok(None)` without the organization, a refusal
    /// when the key is not one of its keys in force.
    pub async fn organization_for_key(
        &self,
        org: &OrgId,
        key_id: &KeyId,
        presented: &ApiKey,
        now: Timestamp,
    ) -> Result<Result<(Organization, Membership), KeyRefusal>, DomainError> {
        let items = self
            .get_many(vec![
                key(keys::org_pk(org), keys::ORG_SK),
                key(keys::org_pk(org), keys::SERVICE_ACCOUNTS_SK),
            ])
            .await?;
        let (mut organization, mut accounts) = (None, AccountsItem::default());
        for item in items {
            match entity_of(&item) {
                Some(Entity::Org) => organization = Some(Organization::from(from_item::<OrgItem>(item)?)),
                Some(Entity::ServiceAccounts) => accounts = from_item(item)?,
                _ => {}
            }
        }
        let Some(organization) = organization else { return Ok(Err(KeyRefusal::Unknown)) };
        Ok(key_membership(&organization, &accounts, key_id, presented, now)
            .map(|membership| (organization, membership)))
    }

    /// Records that `key` was used now, if it was not within the last minute: one conditional
    /// write of its own `last_used_at`, which never races the item's management.
    pub async fn record_key_use(&self, used: &KeyUse, now: Timestamp) -> Result<(), DomainError> {
        if !used.due_for_use_record(now) {
            return Ok(());
        }
        let entry = attr("keys").entry(used.key_id.to_string());
        let last = entry.clone().dot("last_used_at");
        let minute_ago = now.plus(-time::Duration::MINUTE);
        let changes = Changes::new()
            .set(last.clone(), stored(&now)?)
            .when(entry.exists())
            .when(last.missing().or(last.le(stored(&minute_ago)?)));
        // A lost condition is another request of the same minute, or a revocation: nothing to do.
        self.update_if(key(keys::org_pk(&used.org_id), keys::SERVICE_ACCOUNTS_SK), changes).await?;
        Ok(())
    }

    /// Counts one request of `key` in the current clock minute: `false` (and nothing counted)
    /// when it already made `limit`. One conditional UpdateItem on an item of its own per key and
    /// minute, which TTL removes; parallel requests never count past the limit.
    pub async fn count_key_request(
        &self,
        key: &KeyUse,
        now: Timestamp,
        limit: u32,
    ) -> Result<bool, DomainError> {
        let minute = now.unix() - now.unix().rem_euclid(60);
        let n = attr("n");
        let changes = Changes::new()
            .set(attr(schema::ENTITY), s(Entity::KeyRate.as_str()))
            .set(attr(schema::TTL), number(minute + 180))
            .add(n.clone(), number(1))
            .when(n.missing().or(n.lt(number(limit))));
        self.update_if(key_rate_key(key, minute), changes).await
    }

    /// Condition that `key` is still there at the moment of the write: not revoked, its account
    /// not deleted. (Its expiry was decided when the request read it.)
    pub(super) fn key_in_force(&self, key: &KeyUse) -> Result<ConditionCheck, DomainError> {
        let there = attr("keys").entry(key.key_id.to_string()).exists();
        built(
            there
                .onto(
                    self.condition(super::plumbing::key(
                        keys::org_pk(&key.org_id),
                        keys::SERVICE_ACCOUNTS_SK,
                    )),
                )
                .build(),
        )
    }
}

fn key_rate_key(key: &KeyUse, minute: i64) -> super::items::Item {
    super::plumbing::key(keys::org_pk(&key.org_id), keys::key_rate_sk(&key.key_id, minute))
}

/// `changes` plus a `SET` of every entry of the map `name` that is new or changed from `before`
/// to `after`, and a `REMOVE` of every entry gone.
fn entries_changed<T: PartialEq + Serialize>(
    mut changes: Changes,
    name: &'static str,
    before: &BTreeMap<String, T>,
    after: &BTreeMap<String, T>,
) -> Result<Changes, DomainError> {
    for (id, entry) in after {
        if before.get(id) != Some(entry) {
            changes = changes.set(attr(name).entry(id.clone()), stored(entry)?);
        }
    }
    for id in before.keys().filter(|id| !after.contains_key(*id)) {
        changes = changes.remove(attr(name).entry(id.clone()));
    }
    Ok(changes)
}

/// The stand-in membership of the key `presented` (id `key_id`) of `organization`, whose
/// service-accounts item is `accounts`, or why it is refused.
fn key_membership(
    organization: &Organization,
    accounts: &AccountsItem,
    key_id: &KeyId,
    presented: &ApiKey,
    now: Timestamp,
) -> Result<Membership, KeyRefusal> {
    let entry = accounts.keys.get(key_id.as_str()).ok_or(KeyRefusal::Unknown)?;
    if !crate::domain::cluster_users::matches(presented.as_str(), &entry.hash) {
        return Err(KeyRefusal::Unknown);
    }
    if entry.expires_at <= now {
        return Err(KeyRefusal::Expired);
    }
    let account = accounts.accounts.get(&entry.service_account_id.to_string());
    let key = KeyUse {
        org_id: organization.org_id,
        service_account_id: entry.service_account_id,
        service_account: account.map(|a| a.name.clone()).unwrap_or_default(),
        key_id: key_id.clone(),
        scopes: Scopes::parse(&entry.scopes).unwrap_or_default(),
        created_at: entry.created_at,
        expires_at: entry.expires_at,
        last_used_at: entry.last_used_at,
    };
    Ok(Membership::of_key(organization.name.clone(), key))
}

/// Whose read a view is: a member's, by their user id, or a service account's key, found and
/// checked in the same read (the service-accounts item in the membership's place).
#[derive(Debug, Clone, Copy)]
pub enum Reader<'a> {
    Member(&'a UserId),
    Key { key_id: &'a KeyId, key: &'a ApiKey, now: Timestamp },
}

impl Reader<'_> {
    /// The item read beside the organization: the membership, or the service-accounts item.
    pub(super) fn item(&self, org: &OrgId) -> super::items::Item {
        match self {
            Reader::Member(user) => key(keys::org_pk(org), keys::member_sk(user)),
            Reader::Key { .. } => key(keys::org_pk(org), keys::SERVICE_ACCOUNTS_SK),
        }
    }

    /// Who acts, from what was read: the member, or the key's stand-in. Without the
    /// organization or the membership, 404 (a person may not learn that it exists); a key not in
    /// force, 401 (the same words whatever the reason).
    pub(super) fn acting(
        &self,
        organization: Option<&Organization>,
        items: &[super::items::Item],
    ) -> Result<Membership, DomainError> {
        let found = |entity: Entity| items.iter().find(|i| entity_of(i) == Some(entity)).cloned();
        match self {
            Reader::Member(_) => match (organization, found(Entity::Member)) {
                (Some(_), Some(item)) => Ok(Membership::from(from_item::<super::items::MemberItem>(item)?)),
                _ => Err(DomainError::NotFound("organization")),
            },
            Reader::Key { key_id, key, now } => {
                let refused = |refusal: KeyRefusal| {
                    tracing::info!(key_id = %key_id, ?refusal, "an API key was refused");
                    DomainError::Unauthorized("the API key is not valid".into())
                };
                let organization = organization.ok_or_else(|| refused(KeyRefusal::Unknown))?;
                let accounts = found(Entity::ServiceAccounts).map(from_item::<AccountsItem>).transpose()?;
                key_membership(organization, &accounts.unwrap_or_default(), key_id, key, *now)
                    .map_err(refused)
            }
        }
    }
}
