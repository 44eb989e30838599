//! The organizations service's domain crate: every Lambda in `functions/` is a thin shell around
//! what lives here. Its layers, each a folder, import only downwards (a test holds it):
//!
//! - [`domain`]: newtypes and rules, free of AWS and HTTP types.
//! - [`store`]: the one DynamoDB table, with every race-prone rule written as a condition.
//! - [`adapters`]: the other AWS services: [`aws`] (SDK configuration), [`cloud`] (STS, EC2),
//!   [`mail`] (SES).
//! - [`edge`]: the HTTP edge: [`routes`] (the one list of operations), [`auth`], [`http`],
//!   [`contract`] (wire types, OpenAPI), [`app`], [`answer`].
//! - [`config`], [`telemetry`], [`clock`], [`stream`]: what each `main` and each stream consumer
//!   wires together.
//!
//! Each adapter and edge module is also re-exported at the root (`orgs::http`, `orgs::mail`), the
//! path the functions use.

pub mod adapters;
pub mod clock;
pub mod config;
pub mod domain;
pub mod edge;
pub mod store;
pub mod stream;
pub mod telemetry;

pub use adapters::{aws, cloud, mail};
pub use edge::{answer, app, auth, contract, http, routes};

pub use app::Api;
pub use clock::{Clock, SystemClock};
pub use domain::DomainError;
