//! The agent API's wire format, as much of it as a node reads (the control plane's OpenAPI
//! document is the whole; the integration tests run this agent against the real service).

use serde::{Deserialize, Serialize};

/// One page of a cluster's account changes.
#[derive(Debug, Clone, Deserialize)]
pub struct UserChanges {
    pub users: Vec<Record>,
    pub revision: u64,
    pub latest_revision: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    User,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Active,
    Blocked,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Linux {
    pub uid: u32,
    pub login: String,
}

/// What one member's account on this cluster should be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub user_id: String,
    pub email: String,
    pub role: Role,
    pub status: Status,
    #[serde(default)]
    pub linux: Option<Linux>,
    /// The member's SSH public keys, one `authorized_keys` line each.
    #[serde(default)]
    pub ssh_keys: Vec<String>,
    pub revision: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Applied,
    Failed,
}

/// What this node did with one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckResult {
    pub user_id: String,
    pub status: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ack<'a> {
    pub revision: u64,
    pub results: &'a [AckResult],
}

#[derive(Debug, Clone, Serialize)]
pub struct Heartbeat {
    pub active_sessions: u32,
    /// RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_activity_at: Option<String>,
}
