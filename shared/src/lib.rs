//! The organizations service's domain crate: every Lambda in `functions/` is a thin shell around
//! what lives here.
//!
//! - [`domain`]: newtypes and rules, free of AWS and HTTP types.
//! - [`store`]: the one DynamoDB table, with every race-prone rule written as a condition.
//! - [`mail`]: the SES mailer and the invitation email text.
//! - [`auth`]: bearer JWT (RS256, JWKS) to [`auth::Caller`].
//! - [`http`]: problem+json answers and request parsing shared by the HTTP functions.
//! - [`config`], [`telemetry`], [`app`]: what each `main` wires together.
//! - [`routes`]: the HTTP API's route table, shared by the fallback function and the local router.

pub mod answer;
pub mod app;
pub mod auth;
pub mod aws;
pub mod clock;
pub mod cloud;
pub mod config;
pub mod contract;
pub mod domain;
pub mod http;
pub mod mail;
pub mod routes;
pub mod store;
pub mod stream;
pub mod telemetry;

pub use app::Api;
pub use clock::{Clock, SystemClock};
pub use domain::DomainError;
