//! The HTTP edge: what API Gateway's requests meet before the domain and the store.
//!
//! - [`routes`]: the one list of operations; the route table, the OpenAPI document, the local
//!   router and the generated events read it.
//! - [`auth`]: bearer JWT (RS256, JWKS) to [`auth::Caller`].
//! - [`http`]: problem+json answers and request parsing; [`answer`] what accepting and declining
//!   an invitation share.
//! - [`contract`]: the wire types and the OpenAPI document.
//! - [`app`]: [`app::Api`], what every HTTP function's `main` builds once.

pub mod answer;
pub mod app;
pub mod auth;
pub mod contract;
pub mod http;
pub mod routes;
