//! The one DynamoDB table behind the service.
//!
//! Every rule two requests could race on is a condition in the write that depends on it:
//! one membership per user and organization (`MEMBER#` put with `attribute_not_exists`), one
//! pending invitation per organization and email and "not already a member" (the `EMAIL#` slot),
//! an invitation answered once (`status = pending` on the invitation), the owner never removed
//! (`role <> owner` on the delete), an inviter or remover who still holds their role (a
//! `ConditionCheck` on their membership), and an invitation accepted only while its inviter may
//! still invite. Reads before writes only choose the error message.
//!
//! - [`expr`]: conditions, updates and key conditions built from attribute paths and values,
//!   with generated placeholders; no expression string is written by hand.
//! - [`plumbing`]: reads, paginated queries, transactions with named actions; [`keys`], [`items`]
//!   and [`schema`]: the stored shape, spelled nowhere else (a test holds that no key prefix or
//!   key attribute appears outside this folder); [`stream`]: the table's stream records decoded
//!   into [`stream::Change`]s, which is all the stream's consumers read.
//! - [`grants`]: the conditions a write that rests on a grant carries, and the refusal when one
//!   was lost.
//! - one file per aggregate: [`users`], [`organizations`], [`invitations`], [`members`],
//!   [`cloud`], [`clusters`], [`cluster_users`], [`linux`] (members' uids and logins), [`ssh_keys`], [`service_accounts`] (and their API keys), [`credits`], [`limits`] (the rate limits'
//!   logs), [`pages`] (cursors).
//!
//! Cost: no Scan exists. Most mutations are one read round trip (a BatchGetItem) and one write;
//! an invitation reads its three rate limits' logs in that BatchGetItem (a resend in a second
//! one, once its invitation says who receives it), a role change or removal adds the
//! query of the member's open invitations, and a cluster's creation or start the read of the
//! credits (see the README's round-trip table, which a test holds).

mod cloud;
mod cluster_users;
mod clusters;
mod credits;
mod expr;
mod grants;
mod invitations;
mod items;
pub mod keys;
mod limits;
mod linux;
mod members;
mod nodes;
mod organizations;
mod pages;
mod plumbing;
pub mod schema;
mod service_accounts;
mod ssh_keys;
pub mod stream;
mod users;
mod webhooks;

use aws_sdk_dynamodb::Client;

pub use cloud::CloudAccountView;
pub use cluster_users::CLUSTERS_PER_WRITE;
pub use clusters::{LiveCluster, Outcome as ClusterOutcome};
pub use items::Entity;
pub use limits::{RateLogs, WINDOW as RATE_WINDOW};
pub use nodes::{Enrollment, NodeItem, combined_report, with_receipts};
pub use organizations::DEFAULT_MAX_OWNED;
pub use pages::{DEFAULT_LIMIT, MAX_LIMIT, Page, PageRequest};
pub use service_accounts::Reader;
pub use users::Registration;
pub use webhooks::{Claimed, DueDelivery, Endpoint};

/// The table and the client that reaches it. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    client: Client,
    table: String,
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }
}
