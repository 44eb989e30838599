//! Members' Linux accounts. An organization has a partition of its own (`LINUX#{org}`): per user
//! who was ever a member, their uid and login; per login, who has it; and the next uid. A uid is
//! given once per (organization, user), so it is the same on every node of every managed cluster
//! and after a re-join.
//!
//! Giving one is one transaction: the counter moves on condition that it is still the value read,
//! the account is put on condition that the user has none, and the login on condition that nobody
//! has it. Two syncs giving the same user an account at once get one account (the loser reads the
//! winner's); two users at once get two uids; a login already taken is taken again with the uid
//! appended.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::Store;
use super::expr::absent;
use super::items::{Entity, Item, from_item, to_item};
use super::keys;
use super::plumbing::{Tx, built, key, number};
use super::schema;
use crate::domain::{DomainError, Email, FIRST_UID, LAST_UID, LinuxAccount, OrgId, UserId};
use crate::store::expr::{Changes, attr};

/// Tries when the counter moved under a write: each round one writer wins.
const ATTEMPTS: usize = 16;
/// Keys one BatchGetItem takes.
const KEYS_PER_READ: usize = 100;

#[derive(Debug, Serialize, Deserialize)]
struct LinuxAccountItem {
    pk: String,
    sk: String,
    entity: Entity,
    org_id: OrgId,
    user_id: UserId,
    #[serde(flatten)]
    account: LinuxAccount,
}

#[derive(Debug, Serialize, Deserialize)]
struct LoginItem {
    pk: String,
    sk: String,
    entity: Entity,
    user_id: UserId,
}

/// The organization's next uid as this sync knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Counter {
    /// Read it (with the user's account) before giving one.
    Unknown,
    /// No account was ever given.
    Absent,
    At(u32),
}

impl Counter {
    fn of(item: Option<&Item>) -> Self {
        match item {
            None => Counter::Absent,
            Some(i) => Counter::At(
                i.get("next_uid")
                    .and_then(|v| v.as_n().ok())
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(FIRST_UID),
            ),
        }
    }

    fn next(self) -> u32 {
        match self {
            Counter::At(n) => n,
            _ => FIRST_UID,
        }
    }
}

fn sk_is(item: &Item, sk: &str) -> bool {
    item.get(schema::SK).and_then(|v| v.as_s().ok()).map(String::as_str) == Some(sk)
}

impl Store {
    /// The Linux accounts of `users` (with the email each login is made from) in `org`, given to
    /// those who have none yet. One BatchGetItem per 100 users (the first reads the counter
    /// too); each new account is one transaction (and a fresh read only when another sync moved
    /// the counter meanwhile).
    pub async fn linux_accounts(
        &self,
        org: &OrgId,
        users: &[(&UserId, &Email)],
    ) -> Result<HashMap<UserId, LinuxAccount>, DomainError> {
        let pk = keys::linux_pk(org);
        let mut accounts = HashMap::new();
        let mut counter = Counter::Unknown;
        for (i, chunk) in users.chunks(KEYS_PER_READ - 1).enumerate() {
            let mut wanted: Vec<Item> =
                chunk.iter().map(|(u, _)| key(pk.clone(), keys::linux_account_sk(u))).collect();
            if i == 0 {
                wanted.push(key(pk.clone(), keys::NEXT_UID_SK));
            }
            let found = self.get_many(wanted).await?;
            if i == 0 {
                counter = Counter::of(found.iter().find(|item| sk_is(item, keys::NEXT_UID_SK)));
            }
            for item in found.into_iter().filter(|item| !sk_is(item, keys::NEXT_UID_SK)) {
                let found = from_item::<LinuxAccountItem>(item)?;
                accounts.insert(found.user_id, found.account);
            }
        }
        for (user, email) in users {
            if !accounts.contains_key(*user) {
                let account = self.give_linux_account(org, user, email, &mut counter).await?;
                accounts.insert((*user).clone(), account);
            }
        }
        Ok(accounts)
    }

    /// Gives `user` the organization's next uid and a login from `email` (see the module's note),
    /// or answers the account another sync just gave them. `counter` is the next uid as last
    /// read or written, and what this leaves it at.
    async fn give_linux_account(
        &self,
        org: &OrgId,
        user: &UserId,
        email: &Email,
        counter: &mut Counter,
    ) -> Result<LinuxAccount, DomainError> {
        let pk = keys::linux_pk(org);
        let mut login_taken = false;
        for _ in 0..ATTEMPTS {
            if *counter == Counter::Unknown {
                let found = self
                    .get_many(vec![
                        key(pk.clone(), keys::linux_account_sk(user)),
                        key(pk.clone(), keys::NEXT_UID_SK),
                    ])
                    .await?;
                if let Some(account) = found.iter().find(|item| !sk_is(item, keys::NEXT_UID_SK)) {
                    return Ok(from_item::<LinuxAccountItem>(account.clone())?.account);
                }
                *counter = Counter::of(found.iter().find(|item| sk_is(item, keys::NEXT_UID_SK)));
            }
            let uid = counter.next();
            if uid > LAST_UID {
                return Err(DomainError::Conflict(format!(
                    "the organization has given every uid from {FIRST_UID} to {LAST_UID}"
                )));
            }
            let login = LinuxAccount::login_for(email, uid);
            let login = if login_taken { LinuxAccount::suffixed(&login, uid) } else { login };
            let account = LinuxAccount { uid, login };
            let next = attr("next_uid");
            let advance = Changes::new()
                .set(next.clone(), number(uid + 1))
                .set(attr(schema::ENTITY), super::plumbing::s(Entity::UidCounter.as_str()))
                .when(if *counter == Counter::Absent { next.missing() } else { next.eq(number(uid)) });
            let advance = built(advance.onto(self.update(key(pk.clone(), keys::NEXT_UID_SK))).build())?;
            let account_item = LinuxAccountItem {
                pk: pk.clone(),
                sk: keys::linux_account_sk(user),
                entity: Entity::LinuxAccount,
                org_id: *org,
                user_id: user.clone(),
                account: account.clone(),
            };
            let login_item = LoginItem {
                pk: pk.clone(),
                sk: keys::login_sk(&account.login),
                entity: Entity::Login,
                user_id: user.clone(),
            };
            let tx = Tx::new()
                .update("counter", advance)
                .put("account", self.put(to_item(&account_item)?, absent())?)
                .put("login", self.put(to_item(&login_item)?, absent())?);
            match self.commit("linux account", tx).await {
                Ok(()) => {
                    *counter = Counter::At(uid + 1);
                    return Ok(account);
                }
                // Another sync gave this user an account, or another user the uid: read again.
                Err(e) if e.failed("account") || e.failed("counter") => *counter = Counter::Unknown,
                // Another member has the login: the same uid, with the uid appended to the login.
                Err(e) if e.failed("login") && !e.any_failed_except(&["login"]) => login_taken = true,
                Err(e) => return Err(e.explain(|_| None)),
            }
        }
        Err(DomainError::unavailable("linux accounts", "the organization's uid counter kept moving"))
    }
}
