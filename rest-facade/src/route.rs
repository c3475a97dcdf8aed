//! The route template a request matched, handed back with its response,
//! so whoever serves the router can count requests by route without a
//! label per subject or id.

use axum::extract::MatchedPath;

/// The template of the route that answered (`/subjects/{subject}/versions`),
/// in the response's extensions (put there by the `mark_route` layer,
/// `layer.rs`); absent when no route matched.
#[derive(Debug, Clone)]
pub struct Route(pub MatchedPath);

impl Route {
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}
