//! What can go wrong, in the domain's words. `http::ApiError` decides what each means on the wire.

/// Boxed source of an infrastructure failure, kept for the log and never shown to a client.
pub type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The request is malformed or breaks a rule of its own (bad email, unknown role).
    #[error("{0}")]
    Invalid(String),
    /// The thing does not exist, or the caller may not know that it does.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The caller may see the thing but not do this to it.
    #[error("{0}")]
    Forbidden(String),
    /// The request contradicts the current state (already a member, no longer pending).
    #[error("{0}")]
    Conflict(String),
    /// What the request read changed before its write landed (another request won a race): the
    /// write was refused by its condition, and the request reads again and decides again
    /// ([`crate::app::reading_again`]). Seen by a client only when that keeps happening.
    #[error("another request changed {0} at the same moment; please retry")]
    Stale(&'static str),
    /// The request was conditional (`If-Match`) on a version that is no longer current.
    #[error("{0}")]
    PreconditionFailed(String),
    /// The credential stopped being valid while the request ran (an API key revoked between the
    /// read and the write).
    #[error("{0}")]
    Unauthorized(String),
    /// The thing existed but its time is over (an expired invitation).
    #[error("{0}")]
    Gone(String),
    /// The request is well formed, but the outside world refused what it asks (the cloud would
    /// not let the service assume the role). The detail names the refusal.
    #[error("{0}")]
    Unprocessable(String),
    /// The organization has no credits left for what would spend more (create, start).
    #[error("the organization has no credits left (balance {balance}); ask for more credits")]
    NoCredits { balance: super::Credits },
    /// The balance, less what running clusters hold, does not cover a cluster's first charging
    /// period (create, start).
    #[error(
        "the organization's credits do not cover this cluster's first charging period: it needs {needed}, and {available} are free (balance {balance}, the rest held for its running clusters); ask for more credits"
    )]
    CreditsShort { balance: super::Credits, available: super::Credits, needed: super::Credits },
    /// A rate limit is reached; the detail says which. It frees up after `retry_after_seconds`.
    #[error("{detail}")]
    TooMany { detail: String, retry_after_seconds: u64 },
    /// A dependency (DynamoDB, SES, the JWKS endpoint) failed in a way that passes: throttling,
    /// a timeout, a 5xx. The client may retry; the cause goes to the log only.
    #[error("{context}")]
    Unavailable {
        context: &'static str,
        #[source]
        source: Source,
    },
    /// A dependency refused in a way that retrying will not fix (access denied, a missing table,
    /// a request it calls invalid): a fault of this deployment, not of the request.
    #[error("{context}")]
    Failed {
        context: &'static str,
        #[source]
        source: Source,
    },
    /// A stored item did not have the shape this code writes: a broken invariant, not bad input.
    #[error("corrupt item: {0}")]
    Corrupt(String),
}

impl DomainError {
    pub fn unavailable(context: &'static str, source: impl Into<Source>) -> Self {
        Self::Unavailable { context, source: source.into() }
    }

    pub fn failed(context: &'static str, source: impl Into<Source>) -> Self {
        Self::Failed { context, source: source.into() }
    }
}
