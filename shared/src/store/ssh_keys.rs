//! A person's SSH keys: one item on their user partition (`USER#{id}` / `SSHKEYS`) holding the
//! list and a version. "At most 10" and "no key twice" are decided on the list read and written
//! on condition that the version is still the one read, so parallel adds cannot pass the limit.
//! Each write reaches the stream, where the cluster user sync carries the keys to every record
//! of every organization the person belongs to.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::Store;
use super::expr::{Changes, attr};
use super::items::{Entity, MemberItem, entity_of, from_item};
use super::keys;
use super::plumbing::{Query, key, number, s, stored};
use super::schema;
use crate::domain::{DomainError, MAX_SSH_KEYS, Membership, SshKey, UserId};

/// Tries when the list changed between the read and the write. Each loss is another write of
/// the same person's keys that got in, and once 10 adds got in every other add is a 409 without a
/// write: adds alone settle within 11 tries; the bound leaves as many again for removals between
/// them (12 parallel adds exhausted an earlier bound of 8: two answered 503).
const ATTEMPTS: usize = 2 * MAX_SSH_KEYS + 2;

#[derive(Debug, Serialize, Deserialize)]
struct SshKeysItem {
    pk: String,
    sk: String,
    entity: Entity,
    user_id: UserId,
    keys: Vec<SshKey>,
    version: u64,
}

impl Store {
    /// The person's keys and the list's version (0: never written).
    pub async fn ssh_keys(&self, user: &UserId) -> Result<(Vec<SshKey>, u64), DomainError> {
        Ok(match self.get(keys::user_pk(user), keys::SSH_KEYS_SK).await? {
            Some(item) => {
                let item = from_item::<SshKeysItem>(item)?;
                (item.keys, item.version)
            }
            None => (Vec::new(), 0),
        })
    }

    /// Adds `key` to the person's list: 409 when it is there already or the list is full.
    pub async fn add_ssh_key(&self, user: &UserId, key: &SshKey) -> Result<(), DomainError> {
        self.change_ssh_keys(user, |keys| {
            if keys.iter().any(|k| k.key_id == key.key_id) {
                return Err(DomainError::Conflict("this key is already added".into()));
            }
            if keys.len() >= MAX_SSH_KEYS {
                return Err(DomainError::Conflict(format!(
                    "at most {MAX_SSH_KEYS} keys: remove one before adding another"
                )));
            }
            keys.push(key.clone());
            Ok(())
        })
        .await
    }

    /// Removes the key `key_id` from the person's list: 404 when it is not there.
    pub async fn remove_ssh_key(&self, user: &UserId, key_id: &str) -> Result<(), DomainError> {
        self.change_ssh_keys(user, |keys| {
            let before = keys.len();
            keys.retain(|k| k.key_id != key_id);
            if keys.len() == before { Err(DomainError::NotFound("ssh key")) } else { Ok(()) }
        })
        .await
    }

    /// Reads the list, changes it, and writes it on condition that its version is the one read.
    async fn change_ssh_keys(
        &self,
        user: &UserId,
        change: impl Fn(&mut Vec<SshKey>) -> Result<(), DomainError>,
    ) -> Result<(), DomainError> {
        for _ in 0..ATTEMPTS {
            let (mut list, version) = self.ssh_keys(user).await?;
            change(&mut list)?;
            let at = attr("version");
            let changes = Changes::new()
                .set(attr(schema::ENTITY), s(Entity::SshKeys.as_str()))
                .set(attr("user_id"), s(user.as_str()))
                .set(attr("keys"), stored(&list)?)
                .set(at.clone(), number(version + 1))
                .when(if version == 0 { at.missing() } else { at.eq(number(version)) });
            if self.update_if(key(keys::user_pk(user), keys::SSH_KEYS_SK), changes).await? {
                return Ok(());
            }
        }
        Err(DomainError::unavailable("ssh keys", "the key list kept changing"))
    }

    /// The `authorized_keys` lines of each of `users` (none for a person without keys): one
    /// BatchGetItem per 100.
    pub async fn authorized_keys(
        &self,
        users: &[&UserId],
    ) -> Result<HashMap<UserId, Vec<String>>, DomainError> {
        let mut found = HashMap::new();
        for chunk in users.chunks(100) {
            let wanted = chunk.iter().map(|u| key(keys::user_pk(u), keys::SSH_KEYS_SK)).collect();
            for item in self.get_many(wanted).await? {
                let item = from_item::<SshKeysItem>(item)?;
                found.insert(item.user_id, item.keys.into_iter().map(|k| k.public_key).collect());
            }
        }
        Ok(found)
    }

    /// Every membership of `user` (from the memberships index: eventually consistent on AWS).
    pub async fn memberships_of(&self, user: &UserId) -> Result<Vec<Membership>, DomainError> {
        self.query(Query::gsi1(keys::member_gsi_pk(user)))
            .await?
            .into_iter()
            .filter(|i| entity_of(i) == Some(Entity::Member))
            .map(|i| from_item::<MemberItem>(i).map(Membership::from))
            .collect()
    }
}
